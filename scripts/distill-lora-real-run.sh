#!/usr/bin/env bash
# `teacher-student --distill lora` on the committed real run's outputs (docs/teacher-student.md), without rerunning
# MIPROv2: the default 0.5B student gets LoRA adapters trained with the settings `--distill lora` uses (2 epochs,
# batch 2, lr 2e-4, r 8) on (1) the run's 30 distilled student traces and (2) the 1.5B teacher's 1.0-scored traces
# on the run's train states (`--distill-from teacher`) and (3) the planner's labels on 120 train states
# (`--distill-from planner`, no demos); the saved optimized program is scored with and without each adapter on the
# run's 100 held-out states, paired, beside the references (the unoptimized program with student and teacher, the
# best constant action). Each stage resumes or is skipped when its output exists.
#   RAYON_NUM_THREADS=2 bash scripts/distill-lora-real-run.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/ts}"
RUN=docs/quality-data/teacher-student
PROGRAM="$RUN/minigrid-subgoal.json"
DATA="$OUT/data-noop" # the run's dataset, with the no-op actions the planner judge needs (2026-12-04)
grep -q no_op_actions "$DATA/test.jsonl" 2>/dev/null || npx opt-native data minigrid --out "$DATA" --seeds 10 \
  --episodes 2 --hint-type subgoal --encoding ascii
probe() { npx tsx scripts/distill-lora-probe.ts --dataset "$DATA" --program "$PROGRAM" \
  --hint-type subgoal --eval-size 100 --max-tokens 64 "$@"; }
train() { # DATA DIR [EPOCHS]
  [ -s "$2/train_summary.json" ] && return 0
  local resume=()
  [ -d "$2/checkpoint" ] && resume=(--resume)
  npx opt-native finetune --model default --data "$1" --output-dir "$2" --epochs "${3:-2}" --batch-size 2 \
    --max-seq-len 8192 --checkpoint-every 10 "${resume[@]}"
}

echo "== student traces ($RUN/minigrid-subgoal_distill.jsonl)"
train "$RUN/minigrid-subgoal_distill.jsonl" "$OUT/lora"
probe --adapter "$OUT/lora" --plain-scores "$OUT/plain-scores.json"

echo "== teacher traces"
[ -s "$OUT/teacher_distill.jsonl" ] || probe --traces-from native:qwen2.5-coder-1.5b --traces-out "$OUT/teacher_distill.jsonl"
if cmp -s "$OUT/teacher_distill.jsonl" "$RUN/minigrid-subgoal_distill.jsonl"; then
  echo "the teacher's traces are the student's (cmp): its adapter would be the one above"
else
  train "$OUT/teacher_distill.jsonl" "$OUT/lora-teacher"
  probe --adapter "$OUT/lora-teacher" --plain-scores "$OUT/plain-scores.json"
fi

echo "== references"
mkdir -p "$OUT/baselines"
probe --plain-scores "$OUT/plain-scores.json" --baselines "$OUT/baselines/basic"

echo "== planner labels"
[ -s "$OUT/planner_distill.jsonl" ] || probe --planner-rows "$OUT/planner_distill.jsonl" --distill-size 120
train "$OUT/planner_distill.jsonl" "$OUT/lora-planner" 3
probe --adapter "$OUT/lora-planner" --no-demos --plain-scores "$OUT/plain-scores.json"

# Optional: ASSESSOR=native:qwen2.5-coder-1.5b grades the references with that model judge too (Cohen's κ against the
# planner judge; about 6 s a non-exact state on 2 cores; its replies cached in $OUT/baselines/assessor.sqlite).
if [ -n "${ASSESSOR:-}" ]; then
  echo "== references, model assessor $ASSESSOR"
  probe --plain-scores "$OUT/plain-scores.json" --baselines "$OUT/baselines/basic" --assessor "$ASSESSOR" \
    --assessor-cache "$OUT/baselines/assessor.sqlite"
fi
