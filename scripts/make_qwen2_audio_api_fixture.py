"""Tokenizer + text-prompt goldens for the Node `AudioModel` tests (tests/audio-model.test.ts).

Uses the tiny random model made by scripts/make_qwen2_audio_fixture.py (vocab 512, <|AUDIO|> = 500)
and adds what a real Qwen2-Audio folder ships beside its weights: tokenizer.json with the audio
special tokens. A real Qwen2-Audio tokenizer is Qwen2's 151,643-token BPE plus specials, with
<|AUDIO|> 151646, <|audio_bos|> 151647, <|audio_eos|> 151648; the npm Qwen2.5 tokenizer gives those
ids to other tokens (<|object_ref_start|>, ...), so it cannot serve. A 151k vocabulary would make
the tiny model's embeddings ~40 MB, so the fixture tokenizer is byte-level (one token per byte,
ids 0..255) with the same special-token *names*: <|endoftext|> 256, <|im_start|> 257,
<|im_end|> 258, reserved fillers 259..499, <|AUDIO|> 500, <|audio_bos|> 501, <|audio_eos|> 502 —
at the model's audio_token_index, which is what the loader checks.

Reference: transformers `Qwen2AudioForConditionalGeneration` (f32, CPU) on the rendered chat
prompt (Qwen2AudioProcessor's template, one clip), label log-probs by full forward passes,
greedy continuation by repeated forward passes.

Run: /work/tools/ref/bin/python scripts/make_qwen2_audio_api_fixture.py
Writes:
  crates/inference/tests/fixtures/tiny-qwen2-audio/tokenizer.json, tokenizer_config.json
  tests/fixtures/qwen2-audio/clip-{a,b}.wav (32-bit float, 16 kHz) and clip-{a,b}.f32 (raw samples)
  tests/fixtures/qwen2-audio/golden.json
"""

import json
import pathlib
import struct

import numpy as np
import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "crates/inference/tests/fixtures/tiny-qwen2-audio"
OUT = ROOT / "tests/fixtures/qwen2-audio"
SR = 16000
AUDIO_TOKEN = 500
SPECIALS = {"<|endoftext|>": 256, "<|im_start|>": 257, "<|im_end|>": 258,
            "<|AUDIO|>": 500, "<|audio_bos|>": 501, "<|audio_eos|>": 502}
PROMPTS = ["Does this audio contain human speech?\nReply with ONLY one word: SPEECH or NON-SPEECH.",
           "Is someone talking? Answer SPEECH or NON-SPEECH."]
LABELS = ["SPEECH", "NON-SPEECH"]
GREEDY_TOKENS = 6
CHAT_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}{% for message in messages %}{% if loop.first and "
    "message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
    "<|im_end|>\n{% else %}{% for content in message['content'] %}{% if 'audio' in content or "
    "'audio_url' in content %}{% set audio_count.value = audio_count.value + 1 %}Audio "
    "{{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n{% elif 'text' in content %}"
    "{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def byte_chars() -> list[str]:
    """GPT-2's bytes_to_unicode characters, in byte order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


def make_tokenizer() -> Tokenizer:
    vocab = {c: i for i, c in enumerate(byte_chars())}
    for i in range(259, 500):
        vocab[f"<|reserved_{i}|>"] = i
    vocab.update(SPECIALS)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(SPECIALS))
    for name, idx in SPECIALS.items():
        assert tok.token_to_id(name) == idx, name
    return tok


def render(prompt: str) -> str:
    return (f"<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
            f"Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n{prompt}<|im_end|>\n<|im_start|>assistant\n")


def clips() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    t = np.arange(int(1.23 * SR)) / SR
    voice = 0.3 * np.sin(2 * np.pi * (150 + 80 * t) * t) * (1 + np.sin(2 * np.pi * 4 * t))
    a = voice + 0.02 * rng.normal(size=t.size)
    b = 0.1 * rng.normal(size=int(0.8 * SR))
    return {"clip-a": a.astype(np.float32), "clip-b": b.astype(np.float32)}


def write_float_wav(path: pathlib.Path, wave: np.ndarray) -> None:
    data = wave.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, SR, SR * 4, 4, 32)  # WAVE_FORMAT_IEEE_FLOAT, mono
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def forward_logits(model, ids, features, mask):
    input_ids = torch.tensor([ids])
    with torch.no_grad():
        return model(input_ids=input_ids, input_features=features, feature_attention_mask=mask,
                     attention_mask=torch.ones_like(input_ids)).logits[0].double()


def clip_golden(model, tok, fe, wave):
    feats = fe(wave, sampling_rate=SR, padding="max_length", return_attention_mask=True, return_tensors="pt")
    features, mask = feats["input_features"], feats["attention_mask"]
    valid = int(mask.sum())
    n_tokens = ((valid - 1) // 2 + 1 - 2) // 2 + 1
    out = []
    for prompt in PROMPTS:
        ids = tok.encode(render(prompt)).ids
        assert ids.count(AUDIO_TOKEN) == 1
        at = ids.index(AUDIO_TOKEN)
        ids = ids[:at] + [AUDIO_TOKEN] * n_tokens + ids[at + 1:]
        logprobs = []
        for label in LABELS:
            label_ids = tok.encode(label).ids
            logp = torch.log_softmax(forward_logits(model, ids + label_ids, features, mask), -1)
            logprobs.append(sum(logp[len(ids) - 1 + j, t].item() for j, t in enumerate(label_ids)))
        greedy = []
        for _ in range(GREEDY_TOKENS):
            nxt = int(forward_logits(model, ids + greedy, features, mask)[-1].argmax())
            greedy.append(nxt)
            if nxt in (256, 258):
                break
        out.append({"prompt": prompt, "promptTokens": len(ids), "labelLogprobs": logprobs,
                    "greedyIds": greedy})
    return {"audioTokens": n_tokens, "prompts": out}


def main():
    tok = make_tokenizer()
    tok.save(str(MODEL / "tokenizer.json"))
    tok_cfg = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "chat_template": CHAT_TEMPLATE}
    (MODEL / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2) + "\n")

    model = Qwen2AudioForConditionalGeneration.from_pretrained(MODEL, torch_dtype=torch.float32).eval()
    model.config._attn_implementation = "eager"
    fe = WhisperFeatureExtractor(feature_size=128)
    OUT.mkdir(parents=True, exist_ok=True)
    golden = {"reference": f"transformers {transformers.__version__}, torch {torch.__version__}",
              "labels": LABELS, "maxNewTokens": GREEDY_TOKENS, "clips": {}}
    for name, wave in clips().items():
        write_float_wav(OUT / f"{name}.wav", wave)
        (OUT / f"{name}.f32").write_bytes(wave.astype("<f4").tobytes())
        golden["clips"][name] = clip_golden(model, tok, fe, wave)
    (OUT / "golden.json").write_text(json.dumps(golden, indent=1) + "\n")
    print(json.dumps(golden, indent=1))


if __name__ == "__main__":
    main()
