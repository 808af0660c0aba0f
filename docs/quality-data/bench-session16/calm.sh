#!/usr/bin/env bash
# Session 16 calm-machine measurements: old addon (before the tiled-kernel routing) vs new, side by side.
set -u
cd "$(dirname "$0")/../../.."
export RAYON_NUM_THREADS=2 OPT_NATIVE_DATASETS=/work/shared/datasets
OUT=runs/bench16
OLD=/tmp/addon-old.node  # a copy of the addon built from b731183
M15=~/.cache/opt-native/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
uptime
target/x86_64-unknown-linux-gnu/release/examples/bench_gemm_rows 40 1,4,8,32,143 > $OUT/gemm_rows.md 2>&1
for variant in old new nopad; do
  case $variant in
    old) env=(NAPI_RS_NATIVE_LIBRARY_PATH=$OLD) ;;
    new) env=() ;;
    nopad) env=(OPT_NATIVE_CPU_PAD_ROWS=0) ;;
  esac
  echo "== generate 0.5B $variant"; env "${env[@]}" npx tsx benches/generate.bench.ts 2>&1 | tail -4
done > $OUT/generate-05b.txt
for variant in old new; do
  case $variant in old) env=(NAPI_RS_NATIVE_LIBRARY_PATH=$OLD) ;; new) env=() ;; esac
  echo "== generate 1.5B $variant"; env "${env[@]}" npx tsx benches/generate.bench.ts $M15 2>&1 | tail -4
done > $OUT/generate-15b.txt
for variant in old new; do
  case $variant in old) env=(NAPI_RS_NATIVE_LIBRARY_PATH=$OLD) ;; new) env=() ;; esac
  echo "== batch decode 0.5B $variant"; env "${env[@]}" npx tsx benches/batch-decode.bench.ts 2>&1 | tail -5
  echo "== score 0.5B $variant"; env "${env[@]}" npx tsx benches/score.bench.ts bbh:navigate 20 2>&1 | tail -6
done > $OUT/batch-score.txt
for variant in old new nopad; do
  case $variant in
    old) env=(NAPI_RS_NATIVE_LIBRARY_PATH=$OLD) ;;
    new) env=() ;;
    nopad) env=(OPT_NATIVE_CPU_PAD_ROWS=0) ;;
  esac
  echo "== rss 0.5B $variant"; env "${env[@]}" node scripts/rss-probe.mjs 2>&1 | tail -5
  echo "== rss 1.5B $variant"; env "${env[@]}" node scripts/rss-probe.mjs $M15 2>&1 | tail -5
done > $OUT/rss.txt
uptime
