"""Tiny random Qwen2-Audio model + golden outputs for crates/inference/tests/qwen2_audio_*.rs.

Reference: transformers `Qwen2AudioForConditionalGeneration` (f32, CPU) and PEFT LoRA, on the same
weights, audio and prompt. Features come from `WhisperFeatureExtractor(128)` called the way
`Qwen2AudioProcessor` calls it; the Rust side recomputes them from the stored waveform.

Run: /work/tools/ref/bin/python scripts/make_qwen2_audio_fixture.py
Writes crates/inference/tests/fixtures/tiny-qwen2-audio/:
  config.json, model.safetensors         the tiny model (vocab 512, <|AUDIO|> = 500)
  lora/adapter_config.json, lora/adapter_model.safetensors   PEFT adapter (decoder + encoder modules)
  golden.safetensors:
    wave (n,) f32                         1.23 s synthetic clip, 16 kHz
    input_ids (seq,) i64                  prompt with <|AUDIO|> already expanded
    audio_embeds (tokens, 32) f32         projector output for the clip's audio tokens
    logits (seq, 512) f32                 base model
    lora_audio_embeds, lora_logits        with the adapter applied (PEFT)
    label_ids (3, 3) i64, label_lens (3,) i64, label_logprobs (3,) f32, lora_label_logprobs (3,) f32
    greedy_ids (4,) i64                   greedy continuation (base model)
"""

import json
import pathlib

import numpy as np
import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.numpy import save_file
from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/inference/tests/fixtures/tiny-qwen2-audio"
SR = 16000
AUDIO_TOKEN, AUDIO_BOS, AUDIO_EOS = 500, 501, 502
LABELS = [[7, 8], [9], [11, 12, 13]]
LORA_TARGETS = ["q_proj", "v_proj", "down_proj", "fc1"]


def tiny_config() -> Qwen2AudioConfig:
    return Qwen2AudioConfig(
        audio_config=dict(
            d_model=32, encoder_attention_heads=4, encoder_ffn_dim=64, encoder_layers=2,
            num_mel_bins=128, max_source_positions=1500,
        ),
        text_config=dict(
            model_type="qwen2", vocab_size=512, hidden_size=32, intermediate_size=64,
            num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            max_position_embeddings=1024, rope_theta=1000000.0, tie_word_embeddings=False,
        ),
        audio_token_index=AUDIO_TOKEN,
    )


def randomize(model: torch.nn.Module) -> None:
    """Weights large enough that every block visibly changes the logits."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * noise)
            elif name.endswith("bias"):
                p.copy_(0.05 * noise)
            else:
                fan_in = p.shape[-1] if p.dim() > 1 else 1
                if p.dim() == 3:
                    fan_in = p.shape[1] * p.shape[2]
                scale = 1.0 if "embed" in name else fan_in ** -0.5
                p.copy_(scale * noise)


def synthetic_wave() -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.arange(int(1.23 * SR)) / SR
    voice = 0.3 * np.sin(2 * np.pi * (150 + 80 * t) * t) * (1 + np.sin(2 * np.pi * 4 * t))
    return (voice + 0.02 * rng.normal(size=t.size)).astype(np.float32)


def prompt_ids(n_audio_tokens: int) -> list[int]:
    head = [3, 17, 42, 99, 5, AUDIO_BOS]
    tail = [AUDIO_EOS, 64, 23, 77, 2, 6]
    return head + [AUDIO_TOKEN] * n_audio_tokens + tail


def audio_embeds(model, features, feature_mask, n_tokens):
    inner = model.get_base_model().model if hasattr(model, "get_base_model") else model.model
    feat_len, _ = inner.audio_tower._get_feat_extract_output_lengths(feature_mask.sum(-1))
    mask_2d = (torch.arange(1500)[None, :] < feat_len[:, None]).long()
    bias = torch.zeros(1, 1, 1500, 1500)
    bias[:, :, :, mask_2d[0] == 0] = float("-inf")
    hidden = inner.audio_tower(features, attention_mask=bias).last_hidden_state
    return inner.multi_modal_projector(hidden)[0, :n_tokens]


def label_logprobs(model, ids, features, feature_mask):
    scores = []
    for label in LABELS:
        full = torch.tensor([ids + label])
        with torch.no_grad():
            logits = model(input_ids=full, input_features=features, feature_attention_mask=feature_mask,
                           attention_mask=torch.ones_like(full)).logits[0]
        logp = torch.log_softmax(logits.double(), -1)
        scores.append(sum(logp[len(ids) - 1 + j, tok].item() for j, tok in enumerate(label)))
    return np.array(scores, dtype=np.float32)


def run(model, ids, features, feature_mask, n_tokens):
    input_ids = torch.tensor([ids])
    with torch.no_grad():
        logits = model(input_ids=input_ids, input_features=features, feature_attention_mask=feature_mask,
                       attention_mask=torch.ones_like(input_ids)).logits[0]
        embeds = audio_embeds(model, features, feature_mask, n_tokens)
    return logits.numpy(), embeds.numpy(), label_logprobs(model, ids, features, feature_mask)


def greedy(model, ids, features, feature_mask, steps=4):
    out = []
    for _ in range(steps):
        input_ids = torch.tensor([ids + out])
        with torch.no_grad():
            logits = model(input_ids=input_ids, input_features=features, feature_attention_mask=feature_mask,
                           attention_mask=torch.ones_like(input_ids)).logits[0, -1]
        out.append(int(logits.argmax()))
    return out


def main():
    torch.manual_seed(0)
    model = Qwen2AudioForConditionalGeneration(tiny_config()).eval()
    model.config._attn_implementation = "eager"
    randomize(model)

    wave = synthetic_wave()
    fe = WhisperFeatureExtractor(feature_size=128)
    feats = fe(wave, sampling_rate=SR, padding="max_length", return_attention_mask=True, return_tensors="pt")
    features, feature_mask = feats["input_features"], feats["attention_mask"]
    valid = int(feature_mask.sum())
    n_tokens = ((valid - 1) // 2 + 1 - 2) // 2 + 1
    ids = prompt_ids(n_tokens)

    logits, embeds, label_lp = run(model, ids, features, feature_mask, n_tokens)
    greedy_ids = greedy(model, ids, features, feature_mask)

    OUT.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(OUT)

    lora_cfg = LoraConfig(r=4, lora_alpha=8, target_modules=LORA_TARGETS, init_lora_weights=False, lora_dropout=0.0)
    torch.manual_seed(1)
    peft_model = get_peft_model(model, lora_cfg).eval()
    lora_logits, lora_embeds, lora_label_lp = run(peft_model, ids, features, feature_mask, n_tokens)
    peft_model.save_pretrained(OUT / "lora")
    (OUT / "lora" / "README.md").unlink(missing_ok=True)

    width = max(len(label) for label in LABELS)
    save_file(
        {
            "wave": wave,
            "input_ids": np.array(ids, dtype=np.int64),
            "audio_embeds": np.ascontiguousarray(embeds),
            "logits": np.ascontiguousarray(logits),
            "lora_audio_embeds": np.ascontiguousarray(lora_embeds),
            "lora_logits": np.ascontiguousarray(lora_logits),
            "label_ids": np.array([label + [0] * (width - len(label)) for label in LABELS], dtype=np.int64),
            "label_lens": np.array([len(label) for label in LABELS], dtype=np.int64),
            "label_logprobs": label_lp,
            "lora_label_logprobs": lora_label_lp,
            "greedy_ids": np.array(greedy_ids, dtype=np.int64),
        },
        OUT / "golden.safetensors",
        metadata={"reference": f"transformers {transformers.__version__}, torch {torch.__version__}"},
    )
    print("valid frames", valid, "audio tokens", n_tokens, "seq", len(ids), "greedy", greedy_ids)
    print("logit std", logits.std(), "lora logit max delta", np.abs(lora_logits - logits).max())
    print(json.dumps({p.name: p.stat().st_size for p in OUT.rglob("*") if p.is_file()}, indent=1))


if __name__ == "__main__":
    main()
