#!/usr/bin/env python3
"""Golden fixtures for crates/inference: a tiny random Qwen2 and its reference logits.

Reference: HF transformers Qwen2ForCausalLM (eager attention, float32, CPU torch).
Run:  /work/tools/ref/bin/python scripts/make_qwen2_fixture.py
Writes crates/inference/tests/fixtures/:
  tiny-qwen2/            tied embeddings, f32 safetensors, byte-level tokenizer, reference.safetensors
  tiny-qwen2-untied/     untied lm_head, 1 layer, f16 safetensors (reference computed from the f16-rounded weights)
  tiny-qwen2.f32.gguf    the tied model as F32 GGUF (qwen2 tensor names)
  tiny-qwen2.q8_0.gguf   the tied model with Q8_0 matrices
"""

import json
import pathlib

import gguf
import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import Qwen2Config, Qwen2ForCausalLM

ROOT = pathlib.Path(__file__).resolve().parent.parent / "crates/inference/tests/fixtures"
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB_SIZE = 260  # 256 byte tokens + 3 specials, padded like HF pads vocabularies
PROMPT = "The capital of France is"
BATCH_PROMPTS = ["Hi there", "A longer prompt!"]
CHOICES = [" Paris", " London", " Rome!"]
DECODE_STEPS = 10
ROPE_THETA = 10000.0
SYSTEM = "You are a helpful assistant."
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\\n" + SYSTEM + "<|im_end|>\\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def make_tokenizer() -> Tokenizer:
    """Byte-level BPE without merges: one token per byte (ids 0..255), then the ChatML specials."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    byte_chars = sorted(alphabet, key=lambda c: _byte_of(c))
    vocab = {c: i for i, c in enumerate(byte_chars)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIALS)
    return tok


def _byte_of(char: str) -> int:
    """Inverse of GPT-2's bytes_to_unicode for one character."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(cs, bs))[ord(char)]


def make_model(tied: bool, seed: int, layers: int = 2) -> Qwen2ForCausalLM:
    cfg = Qwen2Config(
        vocab_size=VOCAB_SIZE,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        rope_parameters={"rope_type": "default", "rope_theta": ROPE_THETA},
        rms_norm_eps=1e-6,
        tie_word_embeddings=tied,
        bos_token_id=256,
        eos_token_id=258,
        attn_implementation="eager",
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(cfg).eval()
    with torch.no_grad():  # larger than HF's init so logits are spread and argmax is stable
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    return model


def positions_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """HF generate's position ids for left padding: cumsum - 1, pads clamped to 0."""
    return (mask.long().cumsum(-1) - 1).clamp(min=0)


@torch.no_grad()
def reference(model: Qwen2ForCausalLM, tok: Tokenizer) -> dict:
    ids = torch.tensor([tok.encode(PROMPT).ids])
    out = model(input_ids=ids, use_cache=True)
    ref = {"prompt_ids": ids[0].int(), "prefill_logits": out.logits[0].float()}
    past, logits = out.past_key_values, out.logits[0, -1]
    tokens, step_logits = [], []
    for _ in range(DECODE_STEPS):
        nxt = int(logits.argmax())
        tokens.append(nxt)
        out = model(input_ids=torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
        past, logits = out.past_key_values, out.logits[0, -1]
        step_logits.append(logits.float())
    ref["decode_tokens"] = torch.tensor(tokens, dtype=torch.int32)
    ref["decode_logits"] = torch.stack(step_logits)
    ref.update(batch_reference(model, tok))
    ref.update(choice_reference(model, tok, ids[0]))
    return ref


def batch_reference(model, tok) -> dict:
    rows = [tok.encode(p).ids for p in BATCH_PROMPTS]
    width = max(len(r) for r in rows)
    ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    out = model(input_ids=ids, attention_mask=mask, position_ids=positions_from_mask(mask))
    return {"batch_ids": ids.int(), "batch_mask": mask.int(), "batch_logits": out.logits.float()}


def choice_reference(model, tok, prompt_ids) -> dict:
    """Sum of log p(choice token | prompt, earlier choice tokens), from one full forward per choice."""
    sums, per_token = [], []
    for choice in CHOICES:
        cids = tok.encode(choice).ids
        full = torch.cat([prompt_ids, torch.tensor(cids)])
        logp = model(input_ids=full[None]).logits[0].float().log_softmax(-1)
        start = len(prompt_ids)
        lp = [float(logp[start - 1 + i, t]) for i, t in enumerate(cids)]
        per_token.append(lp)
        sums.append(sum(lp))
    flat = [x for lp in per_token for x in lp]
    return {"choice_logprob_sums": torch.tensor(sums), "choice_token_logprobs": torch.tensor(flat)}


def save_hf_folder(model, tok, folder: pathlib.Path, dtype: torch.dtype) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.to(dtype).contiguous() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        state.pop("lm_head.weight", None)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    model.config.to_json_file(str(folder / "config.json"))
    tok.save(str(folder / "tokenizer.json"))
    tok_cfg = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "chat_template": CHAT_TEMPLATE}
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_cfg, indent=2))


GGUF_NAMES = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}


def gguf_name(hf: str) -> str:
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    _, _, layer, rest = hf.split(".", 3)
    module, kind = rest.rsplit(".", 1)
    return f"blk.{layer}.{GGUF_NAMES[module]}.{kind}"


def save_gguf(model, path: pathlib.Path, qtype: gguf.GGMLQuantizationType) -> None:
    cfg = model.config
    w = gguf.GGUFWriter(str(path), "qwen2")
    w.add_name("tiny-qwen2")
    w.add_block_count(cfg.num_hidden_layers)
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    for name, t in model.state_dict().items():
        if name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue
        arr = t.float().numpy()
        if arr.ndim == 2 and qtype != gguf.GGMLQuantizationType.F32:
            w.add_tensor(gguf_name(name), gguf.quants.quantize(arr, qtype), raw_dtype=qtype)
        else:
            w.add_tensor(gguf_name(name), arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> None:
    tok = make_tokenizer()
    tied = make_model(tied=True, seed=0)
    save_hf_folder(tied, tok, ROOT / "tiny-qwen2", torch.float32)
    save_file(reference(tied, tok), str(ROOT / "tiny-qwen2/reference.safetensors"))
    save_gguf(tied, ROOT / "tiny-qwen2.f32.gguf", gguf.GGMLQuantizationType.F32)
    save_gguf(tied, ROOT / "tiny-qwen2.q8_0.gguf", gguf.GGMLQuantizationType.Q8_0)

    untied = make_model(tied=False, seed=1, layers=1)
    with torch.no_grad():  # the reference sees exactly the f16 weights that are stored
        for p in untied.parameters():
            p.copy_(p.half().float())
    folder = ROOT / "tiny-qwen2-untied"
    save_hf_folder(untied, tok, folder, torch.float16)
    ids = torch.tensor([tok.encode(PROMPT).ids])
    with torch.no_grad():
        logits = untied(input_ids=ids).logits[0].float()
    save_file({"prompt_ids": ids[0].int(), "prefill_logits": logits}, str(folder / "reference.safetensors"))
    print("wrote", sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()))


if __name__ == "__main__":
    main()
