#!/usr/bin/env bash
# Decode before/after the Q6_K single-row kernel (session 20), old and new addon alternating, same machine.
# /tmp/addon-before.node: a build of 8dca957; /tmp/addon-after.node: a build of the kernel's commit
# (cargo build --release --manifest-path bindings/Cargo.toml; cp target/*/release/libopt_native_node.so ...).
set -u
cd "$(dirname "$0")/../../.."
M15=~/.cache/opt-native/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
for round in 1 2; do
  for which in before after; do
    for flag in 0 1; do
      echo "== round $round $which int8=$flag 1.5B"
      OPT_NATIVE_CPU_INT8=$flag NAPI_RS_NATIVE_LIBRARY_PATH=/tmp/addon-$which.node RAYON_NUM_THREADS=2 npx tsx benches/generate.bench.ts $M15 2>&1 | grep -v control-looking
    done
  done
done
for which in before after; do
  echo "== $which int8=0 0.5B"
  OPT_NATIVE_CPU_INT8=0 NAPI_RS_NATIVE_LIBRARY_PATH=/tmp/addon-$which.node RAYON_NUM_THREADS=2 npx tsx benches/generate.bench.ts 2>&1 | grep -v control-looking
done
