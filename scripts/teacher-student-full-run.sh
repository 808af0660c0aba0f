#!/usr/bin/env bash
# Issue 14, the whole pipeline in one command (session 16): the real run's settings (scripts/teacher-student-real-run.sh)
# on the dataset with no-op actions (the no-op-aware planner judge), MIPROv2 with the fixed proposal parser, then
# `--distill lora --distill-from planner`: the 0.5B student's adapter trained on the planner's labels for 120 train
# states (3 epochs) and scored on the 100 held-out states beside the teacher's zero-shot score. Resumable: a rerun
# replays the recorded steps.
#   RAYON_NUM_THREADS=2 bash scripts/teacher-student-full-run.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
export OPT_NATIVE_DATASETS=${OPT_NATIVE_DATASETS:-../shared/datasets}
OUT="${1:-runs/ts-full}"
DATA="$OUT/data"
grep -q no_op_actions "$DATA/test.jsonl" 2>/dev/null || node bin/opt-native.js data minigrid --out "$DATA" \
  --seeds 10 --episodes 2 --hint-type subgoal --encoding ascii --force
/usr/bin/time -v node bin/opt-native.js teacher-student --dataset-path "$DATA" \
  --teacher-model native:qwen2.5-coder-1.5b --student-model native:default --assessor-model planner \
  --hint-type subgoal --encoding-type ascii --samples-per-category 8 --max-bootstrapped-demos 1 \
  --max-labeled-demos 4 --auto light --dev-size 16 --eval-size 100 --episodes 6 --episode-max-steps 20 \
  --max-tokens 64 --proposer-max-tokens 120 --distill lora --distill-from planner --distill-size 120 \
  --distill-epochs 3 --output-dir "$OUT/out" --name minigrid-subgoal
