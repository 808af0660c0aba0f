#!/usr/bin/env bash
# The real fine-tuning run of docs/finetune.md: LoRA on the default 0.5B GGUF model over BBH boolean_expressions'
# train split as chats; held-out balanced accuracy on the test split of the base, the final adapter, best/ by eval
# loss (run A, --best-by loss) and best/ by eval exact match (run C, the default; the same weights at every step);
# and the kill -9 / --resume
# check: run B is killed after its step-80 checkpoint and resumed, and its adapter must equal run A's byte for byte.
#
#   OPT_NATIVE_DATASETS=../shared/datasets RAYON_NUM_THREADS=2 bash scripts/finetune-real-run.sh [OUT]
#
# Each stage is skipped when its output exists, so a cut-off run continues with the same command.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/ft-boolean}"
TASK=bbh:boolean_expressions
SPLITS=(--train-size 100 --eval-size 25 --test-size 125)
INSTRUCTION="Answer True or False."
mkdir -p "$OUT"

for split in train validation; do
  [ -s "$OUT/$split.jsonl" ] || npx tsx scripts/task-chats.ts --task "$TASK" --split "$split" "${SPLITS[@]}" \
    --instruction "$INSTRUCTION" --out "$OUT/$split.jsonl"
done

finetune() { # DIR [extra flags]
  local dir="$1"
  shift
  /usr/bin/time -v npx opt-native finetune --model default --data "$OUT/train.jsonl" \
    --eval-data "$OUT/validation.jsonl" --output-dir "$dir" --batch-size 2 --epochs 4 --lr 2e-4 --warmup-steps 10 \
    --eval-every 20 --checkpoint-every 20 --max-seq-len 96 "$@"
}
checkpoint_step() { # DIR -> the step of its checkpoint, 0 without one
  node -e 'try { console.log(require(process.argv[1]).step) } catch { console.log(0) }' \
    "$PWD/$1/checkpoint/trainer_state.json"
}

# Run A: uninterrupted (or continued, if this script itself was cut off).
if [ ! -s "$OUT/a/train_summary.json" ]; then
  resume=()
  [ -d "$OUT/a/checkpoint" ] && resume=(--resume)
  finetune "$OUT/a" --best-by loss "${resume[@]}" 2> "$OUT/a.log"
fi

# Run B: kill -9 once its step-80 checkpoint is in place, then the same command with --resume.
if [ ! -s "$OUT/b/train_summary.json" ]; then
  if [ "$(checkpoint_step "$OUT/b")" -lt 80 ]; then
    rm -rf "$OUT/b"
    finetune "$OUT/b" 2> "$OUT/b-killed.log" &
    while [ "$(checkpoint_step "$OUT/b")" -lt 80 ]; do sleep 1; done
    pkill -9 -f -- "--output-dir $OUT/b" || true
    wait || true
    echo "killed run B at checkpoint step $(checkpoint_step "$OUT/b")"
  fi
  finetune "$OUT/b" --resume 2> "$OUT/b-resumed.log"
fi
if cmp "$OUT/a/adapter_model.safetensors" "$OUT/b/adapter_model.safetensors" \
  && cmp "$OUT/a/loss_curve.csv" "$OUT/b/loss_curve.csv"; then
  echo "kill -9 + --resume: adapter and loss curve identical to the uninterrupted run"
else
  echo "kill -9 + --resume: the resumed run differs from the uninterrupted one" >&2
  exit 1
fi

# Run C: run A with best/ chosen by eval exact match (the default) instead of eval loss (the same weights at every step).
if [ ! -s "$OUT/c/train_summary.json" ]; then
  resume=()
  [ -d "$OUT/c/checkpoint" ] && resume=(--resume)
  finetune "$OUT/c" --best-by exact-match "${resume[@]}" 2> "$OUT/c.log"
fi

evaluate() { # NAME EVALUATOR
  [ -s "$OUT/$1.csv" ] && return 0
  npx opt-native evaluate --task "$TASK" --eval-mode score "${SPLITS[@]}" --prompt "$INSTRUCTION" \
    --evaluator "$2" --output-csv "$OUT/$1.csv.partial" --metrics-json "$OUT/$1.metrics.json" > "$OUT/$1.log"
  mv "$OUT/$1.csv.partial" "$OUT/$1.csv"
}
evaluate base native:default
evaluate final "native:default?adapter=$OUT/a"
evaluate best "native:default?adapter=$OUT/a/best"
evaluate best-exact "native:default?adapter=$OUT/c/best"

for candidate in final best best-exact; do
  echo "== base vs $candidate"
  npx tsx scripts/paired-csv.ts --task "$TASK" "$OUT/base.csv" "$OUT/$candidate.csv"
done
