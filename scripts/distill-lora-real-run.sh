#!/usr/bin/env bash
# `teacher-student --distill lora` on the committed real run's outputs (docs/teacher-student.md): the default 0.5B
# student gets a LoRA adapter trained on the run's 30 distilled traces with the settings `--distill lora` uses
# (2 epochs, batch 2, lr 2e-4, r 8), then the saved optimized program is scored with and without it on the run's
# 100 held-out states, paired. Each stage resumes or is skipped when its output exists.
#   RAYON_NUM_THREADS=2 bash scripts/distill-lora-real-run.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-runs/ts}"
RUN=docs/quality-data/teacher-student
[ -s "$OUT/data-subgoal/test.jsonl" ] || npx opt-native data minigrid --out "$OUT/data-subgoal" --seeds 10 \
  --episodes 2 --hint-type subgoal --encoding ascii
if [ ! -s "$OUT/lora/train_summary.json" ]; then
  resume=()
  [ -d "$OUT/lora/checkpoint" ] && resume=(--resume)
  npx opt-native finetune --model default --data "$RUN/minigrid-subgoal_distill.jsonl" --output-dir "$OUT/lora" \
    --epochs 2 --batch-size 2 --max-seq-len 8192 --checkpoint-every 10 "${resume[@]}"
fi
npx tsx scripts/distill-lora-probe.ts --dataset "$OUT/data-subgoal" --program "$RUN/minigrid-subgoal.json" \
  --adapter "$OUT/lora" --hint-type subgoal --eval-size 100 --max-tokens 64
