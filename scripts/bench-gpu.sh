#!/usr/bin/env bash
# Runs on the GPU machine (device tool): transformers vs the native CUDA build on random-weight Qwen2.5 0.5B and 7B
# shapes, bf16 safetensors and Q4_K GGUF. Build first here with scripts/build-cuda.sh (it packs the stripped binaries
# and the tokenizer into target-cuda/gpu-bench.tar.gz, ~27 MB), then:
#   run(command="bash scripts/bench-gpu.sh", carry=["target-cuda/gpu-bench.tar.gz"])
# Env: PROMPT_TOKENS (512), NEW_TOKENS (128), SIZES (0.5b,7b). Results go to $OUT (or ./gpu-bench) as text. Last,
# bench_finetune on the 0.5B shape (finetune.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE="$(mktemp -d)"
tar -xzf target-cuda/gpu-bench.tar.gz -C "$BUNDLE"
BIN="$BUNDLE/bench_generate"
MAKE_GGUF="$BUNDLE/random_gguf"
TOKENIZER="$BUNDLE/tokenizer.json"
PROMPT_TOKENS="${PROMPT_TOKENS:-512}"
NEW_TOKENS="${NEW_TOKENS:-128}"
SIZES="${SIZES:-0.5b,7b}"
RESULTS="${OUT:-gpu-bench}"
MODELS="${TMPDIR:-/tmp}/qwen-random"
mkdir -p "$RESULTS" "$MODELS"

# CUDA 13 runtime libraries from torch's nvidia-* wheels; the driver's libcuda.so.1 is on the system path.
NVIDIA_LIBS="$(python3 -c 'import nvidia, pathlib; print(":".join(str(p) for p in pathlib.Path(nvidia.__path__[0]).glob("**/lib") if p.is_dir()))')"
export LD_LIBRARY_PATH="$NVIDIA_LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$RESULTS/gpu.txt"

python3 scripts/bench_qwen2_gpu.py --sizes "$SIZES" --prompt-tokens "$PROMPT_TOKENS" --new-tokens "$NEW_TOKENS" \
  --save-dir "$MODELS" | tee "$RESULTS/transformers.jsonl"
for size in ${SIZES//,/ }; do
  folder="$MODELS/qwen2.5-$size-random"
  echo "== native bf16 $size" | tee -a "$RESULTS/native.txt"
  "$BIN" "$folder" "$TOKENIZER" "$PROMPT_TOKENS" "$NEW_TOKENS" --device cuda --dtype bf16 \
    2>&1 | grep -v '^text:' | tee -a "$RESULTS/native.txt"
  echo "== native Q4_K (bf16 activations) $size" | tee -a "$RESULTS/native.txt"
  "$MAKE_GGUF" "$folder/config.json" "$MODELS/qwen2.5-$size-q4k.gguf" q4k
  "$BIN" "$MODELS/qwen2.5-$size-q4k.gguf" "$TOKENIZER" "$PROMPT_TOKENS" "$NEW_TOKENS" --device cuda --dtype bf16 \
    2>&1 | grep -v '^text:' | tee -a "$RESULTS/native.txt"
done

# LoRA training tokens/s beside prefill on the same chats (issue 16), on the 0.5B shape: the dense bf16 folder and
# its Q4_K GGUF (training dequantizes to f32). 16 chats of ~440 tokens, batches of 8, 4 steps.
FINETUNE="$BUNDLE/bench_finetune"
for model in "$MODELS/qwen2.5-0.5b-random" "$MODELS/qwen2.5-0.5b-q4k.gguf"; do
  [ -e "$model" ] || continue
  echo "== native LoRA training vs prefill: $(basename "$model")" | tee -a "$RESULTS/finetune.txt"
  "$FINETUNE" "$model" "$TOKENIZER" 16 4 8 --device cuda --repeat 4 2>&1 | tee -a "$RESULTS/finetune.txt"
done
nvidia-smi --query-gpu=memory.used --format=csv | tee -a "$RESULTS/finetune.txt"
