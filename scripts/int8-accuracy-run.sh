#!/usr/bin/env bash
# Held-out accuracy of the 0.5B scorer with and without OPT_NATIVE_CPU_INT8=1 (issue 17): the
# baseline prompt of each task of examples/manifests/quality.json on its default test split, score
# mode with batch calibration, no response cache (the two runs must not share replies).
# Resumable (prompt-sweep skips finished rows). Pair the runs with scripts/int8-accuracy-table.ts.
set -euo pipefail
out=${1:-runs/int8-accuracy}
mkdir -p "$out"
echo "[]" > "$out/no-extra-prompts.json"
tasks="movie_recommendation:124 disambiguation_qa:125 ruin_names:124 logical_deduction_three_objects:125 navigate:125 boolean_expressions:125"
for mode in f32 int8; do
  for entry in $tasks; do
    task=${entry%%:*}
    size=${entry##*:}
    flag=0
    [ "$mode" = int8 ] && flag=1
    echo "== $mode $task" >&2
    OPT_NATIVE_CPU_INT8=$flag npx tsx scripts/prompt-sweep.ts --task "bbh:$task" --size "$size" --with-baseline \
      --prompts "$out/no-extra-prompts.json" --calibrations batch --out "$out/$task-$mode.jsonl"
  done
done
