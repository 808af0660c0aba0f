#!/usr/bin/env bash
# Issue 14: does a larger planner-labelled set teach the 0.5B student to read the view? The "planner labels" stage
# of scripts/distill-lora-real-run.sh at another --distill-size and epoch count: the committed optimized program's
# instruction (no demos), the planner's labels on SIZE train states, a LoRA adapter (batch 2, lr 2e-4, r 8), scored
# on the run's 100 held-out states and paired with the optimized student, the 1.5B teacher's zero-shot score and the
# best constant action. Each stage resumes or is skipped when its output exists.
#   RAYON_NUM_THREADS=2 bash scripts/distill-planner-size-run.sh [SIZE] [EPOCHS] [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-360}"
EPOCHS="${2:-2}"
OUT="${3:-runs/ts}"
PROGRAM=docs/quality-data/teacher-student/minigrid-subgoal.json
DATA="$OUT/data-noop"
grep -q no_op_actions "$DATA/test.jsonl" 2>/dev/null || npx opt-native data minigrid --out "$DATA" --seeds 10 \
  --episodes 2 --hint-type subgoal --encoding ascii
probe() { npx tsx scripts/distill-lora-probe.ts --dataset "$DATA" --program "$PROGRAM" \
  --hint-type subgoal --eval-size 100 --max-tokens 64 "$@"; }
ROWS="$OUT/planner_distill_$SIZE.jsonl"
LORA="$OUT/lora-planner-$SIZE-e$EPOCHS"
mkdir -p "$OUT/baselines"
echo "== references"
probe --plain-scores "$OUT/plain-scores.json" --baselines "$OUT/baselines/basic"
echo "== planner labels on $SIZE train states, $EPOCHS epochs"
[ -s "$ROWS" ] || probe --planner-rows "$ROWS" --distill-size "$SIZE"
if [ ! -s "$LORA/train_summary.json" ]; then
  resume=()
  [ -d "$LORA/checkpoint" ] && resume=(--resume)
  npx opt-native finetune --model default --data "$ROWS" --output-dir "$LORA" --epochs "$EPOCHS" --batch-size 2 \
    --max-seq-len 8192 --checkpoint-every 10 "${resume[@]}"
fi
probe --adapter "$LORA" --no-demos --plain-scores "$OUT/plain-scores.json" --baselines "$OUT/baselines/basic"
