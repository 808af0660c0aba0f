"""GPU peer bench: HF transformers on random-weight Qwen2.5 models of the real 0.5B and 7B shapes.

No hub access on the GPU machine, so the configs are written out here (from the published config.json files) and the
weights are random (same speed as real ones). For each size the script
  1. builds the model with `from_config` in bf16 on cuda:0,
  2. optionally saves it (`--save-dir`) as an HF folder (config.json + model.safetensors) that the native
     bench_generate example loads with `--device cuda --dtype bf16`,
  3. times transformers: prefill = one forward over PROMPT_TOKENS ids, decode = greedy generate of NEW_TOKENS tokens
     with the KV cache, minus the prefill; every timing synchronizes the GPU first.

  python scripts/bench_qwen2_gpu.py --sizes 0.5b,7b --prompt-tokens 512 --new-tokens 128 --save-dir /tmp/qwen-random
Prints one JSON line per size.
"""

import argparse
import json
import pathlib
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

COMMON = dict(
    hidden_act="silu",
    max_position_embeddings=32768,
    rms_norm_eps=1e-6,
    rope_theta=1000000.0,
    use_sliding_window=False,
    bos_token_id=151643,
    eos_token_id=151645,
)
CONFIGS = {
    "0.5b": dict(
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        vocab_size=151936,
        tie_word_embeddings=True,
        **COMMON,
    ),
    "7b": dict(
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        vocab_size=152064,
        tie_word_embeddings=False,
        **COMMON,
    ),
}


def timed(fn) -> float:
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def bench(size: str, prompt_tokens: int, new_tokens: int, save_dir: pathlib.Path | None) -> dict:
    torch.manual_seed(0)
    config = Qwen2Config(**CONFIGS[size])
    model = Qwen2ForCausalLM(config).to(dtype=torch.bfloat16, device="cuda").eval()
    # from_config's init is N(0, 0.02); keep it, the logits are meaningless but the work is real.
    if save_dir is not None:
        out = save_dir / f"qwen2.5-{size}-random"
        model.save_pretrained(out, safe_serialization=True)
    ids = torch.randint(0, 151000, (1, prompt_tokens), device="cuda")
    with torch.inference_mode():
        for _ in range(2):  # warm-up: cuBLAS handles, kernels, allocator
            model(ids)
            model.generate(ids, max_new_tokens=8, min_new_tokens=8, do_sample=False)
        prefill = min(timed(lambda: model(ids)) for _ in range(3))
        total = timed(
            lambda: model.generate(
                ids, max_new_tokens=new_tokens + 1, min_new_tokens=new_tokens + 1, do_sample=False
            )
        )
    params = sum(p.numel() for p in model.parameters())
    decode = (total - prefill) / new_tokens
    return {
        "engine": "transformers",
        "size": size,
        "dtype": "bf16",
        "params": params,
        "prompt_tokens": prompt_tokens,
        "new_tokens": new_tokens,
        "prefill_tok_s": round(prompt_tokens / prefill, 1),
        "decode_tok_s": round(1 / decode, 1),
        "weight_gib": round(params * 2 / 2**30, 2),
        "device": torch.cuda.get_device_name(0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0.5b,7b")
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--save-dir", type=pathlib.Path)
    args = parser.parse_args()
    for size in args.sizes.split(","):
        print(json.dumps(bench(size, args.prompt_tokens, args.new_tokens, args.save_dir)), flush=True)
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
