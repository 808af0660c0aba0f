"""GPU baseline for the Qwen2-Audio evaluator: transformers' `generate`, one clip at a time (the seed's way).

Random weights of the real Qwen2-Audio-7B shapes (`Qwen2AudioConfig()` defaults: Whisper-large-v3 encoder, 32 layers,
projector 1280→4096, Qwen2-7B decoder) made on the GPU machine, so nothing big travels; speed does not depend on the
weight values. No tokenizer is needed: prompts are fixed token ids with the <|AUDIO|> placeholder expanded as
Qwen2AudioProcessor does, features from WhisperFeatureExtractor(128) (numpy only).

Measures, on one GPU (torch.cuda.synchronize before every clock read):
  - dev-set throughput: N clips of 1-10 s (default 200), `generate(max_new_tokens=8)` per clip, clips/s
  - time to first token for one 30 s clip (prefill + first token)
  - the label-scoring equivalent in transformers (one forward of prompt + label, batch of labels), clips/s, for
    comparison with the native label scoring + encoder cache

Run (device tool, nvidia-h100-x1 or nvidia-h200; torch 2.11 + transformers there):
  python scripts/bench_qwen2_audio_gpu.py --clips 200 --out $OUT/transformers.json [--save-model $OUT/model]
`--save-model DIR` also writes the random model (config.json + safetensors, ~16 GB in bf16) for the native bench
(`cargo run --release --features cuda -p opt-native-inference --example bench_qwen2_audio -- DIR`), which needs the
same folder on the same machine.
"""

import argparse
import json
import time

import numpy as np
import torch
from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

SR = 16000
AUDIO_TOKEN, AUDIO_BOS, AUDIO_EOS = 151646, 151647, 151648
# "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nAudio 1: " and the question, as ids
# of the real tokenizer would be: lengths matter for speed, not the values.
HEAD = [151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 14755, 220, 16, 25, 220]
QUESTION = [198] + [40, 419, 7699, 6644, 3738, 8806, 30, 198, 20841, 448, 26687, 825, 3409, 25, 67922, 2726,
                            20575, 12, 67922, 13, 151645, 198, 151644, 77091, 198]
LABELS = [[67922, 2726], [20575, 12, 67922, 2726]]


def sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def clip_inputs(fe, seconds, rng, device, dtype):
    wave = (0.1 * rng.standard_normal(int(seconds * SR))).astype(np.float32)
    feats = fe(wave, sampling_rate=SR, padding="max_length", return_attention_mask=True, return_tensors="pt")
    valid = int(feats["attention_mask"].sum())
    n_tokens = ((valid - 1) // 2 + 1 - 2) // 2 + 1
    ids = HEAD + [AUDIO_BOS] + [AUDIO_TOKEN] * n_tokens + [AUDIO_EOS] + QUESTION
    return (torch.tensor([ids], device=device),
            feats["input_features"].to(device, dtype),
            feats["attention_mask"].to(device))


def generate_one(model, inputs, max_new_tokens):
    ids, features, mask = inputs
    return model.generate(input_ids=ids, input_features=features, feature_attention_mask=mask,
                          attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False)


def score_labels(model, inputs):
    """Label scoring in transformers: one forward of prompt+label per label (batched over labels)."""
    ids, features, mask = inputs
    width = max(len(label) for label in LABELS)
    rows = torch.stack([torch.cat([ids[0], torch.tensor(label + [label[0]] * (width - len(label)), device=ids.device)])
                        for label in LABELS])
    with torch.no_grad():
        logits = model(input_ids=rows, input_features=features.expand(len(LABELS), -1, -1),
                       feature_attention_mask=mask.expand(len(LABELS), -1),
                       attention_mask=torch.ones_like(rows)).logits
    return logits[:, ids.shape[1] - 1:].float().log_softmax(-1)


def main():
    global HEAD, QUESTION, LABELS, AUDIO_TOKEN, AUDIO_BOS, AUDIO_EOS
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--max-new-tokens", type=int, default=8)
    parser.add_argument("--out", default=None)
    parser.add_argument("--save-model", default=None)
    parser.add_argument("--device", default="cuda", help="cuda, or cpu for a smoke run")
    parser.add_argument("--config-dir", default=None,
                        help="take config.json from this folder (e.g. the tiny fixture) instead of the 7B defaults")
    args = parser.parse_args()

    device = args.device
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    torch.manual_seed(0)
    config = Qwen2AudioConfig.from_pretrained(args.config_dir) if args.config_dir else Qwen2AudioConfig()
    with torch.device(device):
        model = Qwen2AudioForConditionalGeneration(config).to(dtype).eval()
    vocab = config.text_config.vocab_size
    if vocab < AUDIO_EOS + 1:  # tiny configs: fold the ids below the audio token, which comes from the config
        AUDIO_TOKEN = config.audio_token_index
        HEAD, QUESTION = [t % AUDIO_TOKEN for t in HEAD], [t % AUDIO_TOKEN for t in QUESTION]
        LABELS = [[t % AUDIO_TOKEN for t in label] for label in LABELS]
        AUDIO_BOS, AUDIO_EOS = AUDIO_TOKEN + 1, AUDIO_TOKEN + 2
    if args.save_model:
        model.save_pretrained(args.save_model)
    fe = WhisperFeatureExtractor(feature_size=128)
    rng = np.random.default_rng(0)
    durations = rng.uniform(1.0, 10.0, size=args.clips)
    inputs = [clip_inputs(fe, d, rng, device, dtype) for d in durations]

    for item in inputs[:3]:  # warm-up (kernels, allocator)
        generate_one(model, item, args.max_new_tokens)
    sync()
    start = time.perf_counter()
    for item in inputs:
        generate_one(model, item, args.max_new_tokens)
    sync()
    generate_s = time.perf_counter() - start

    start = time.perf_counter()
    for item in inputs:
        score_labels(model, item)
    sync()
    score_s = time.perf_counter() - start

    long_clip = clip_inputs(fe, 30.0, rng, device, dtype)
    generate_one(model, long_clip, 1)
    sync()
    start = time.perf_counter()
    generate_one(model, long_clip, 1)
    sync()
    ttft_s = time.perf_counter() - start

    result = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "dtype": str(dtype),
        "clips": args.clips,
        "clip_seconds_mean": float(durations.mean()),
        "generate_clips_per_s": args.clips / generate_s,
        "generate_max_new_tokens": args.max_new_tokens,
        "transformers_label_scoring_clips_per_s": args.clips / score_s,
        "ttft_30s_clip_ms": ttft_s * 1000,
    }
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
