#!/usr/bin/env bash
# Issue 14 real run: 1.5B teacher, 0.5B student, planner assessor, subgoal hints, 100 held-out states.
cd "$(dirname "$0")/.."
export OPT_NATIVE_DATASETS=${OPT_NATIVE_DATASETS:-../shared/datasets}
node bin/opt-native.js data minigrid --out runs/ts/data-subgoal --seeds 10 --episodes 2 --hint-type subgoal --encoding ascii --force
/usr/bin/time -v node bin/opt-native.js teacher-student --dataset-path runs/ts/data-subgoal \
  --teacher-model native:qwen2.5-coder-1.5b --student-model native:default --assessor-model planner \
  --hint-type subgoal --encoding-type ascii --samples-per-category 8 --max-bootstrapped-demos 1 \
  --max-labeled-demos 4 --auto light --dev-size 16 --eval-size 100 --episodes 6 --episode-max-steps 20 \
  --max-tokens 64 --proposer-max-tokens 120 --output-dir runs/ts/out --name minigrid-subgoal
