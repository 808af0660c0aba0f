#!/usr/bin/env python3
"""Golden fixture for LoRA training (crates/inference/src/train): HF PEFT on the tiny Qwen2.

Reference: transformers Qwen2ForCausalLM (eager attention, float32, CPU torch) + PEFT LoraConfig
(r=4, lora_alpha=6, use_rslora=True -> scale 3, all seven projections, dropout 0), with lora_B set
to seeded random values so the adapter changes the output.
Setup:  python3 -m venv /work/venvs/peft && /work/venvs/peft/bin/pip install torch transformers peft safetensors
Run:    /work/venvs/peft/bin/python scripts/make_lora_fixture.py
Reads   crates/inference/tests/fixtures/tiny-qwen2/ (made by make_qwen2_fixture.py).
Writes  crates/inference/tests/fixtures/tiny-qwen2-lora/
  adapter_config.json, adapter_model.safetensors   PEFT's own save_pretrained output
  reference.safetensors   ids (2, seq) right-padded, lengths, labels (-100 = not learned),
                          logits (2, seq, vocab), loss (mean over learned tokens, HF's
                          shifted causal-LM loss), and grad.<peft tensor name> of that loss
  chats.json              the two chats, as the Rust test tokenizes them

With --check-ours DIR: loads an adapter our Rust code saved into DIR with PeftModel and prints
the largest logit difference against DIR/logits.safetensors (written by the same Rust test).
"""

import json
import pathlib
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import Qwen2ForCausalLM

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "crates/inference/tests/fixtures"
BASE = FIXTURES / "tiny-qwen2"
OUT = FIXTURES / "tiny-qwen2-lora"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SYSTEM = "You are a helpful assistant."
IM_START, IM_END, PAD = 257, 258, 256  # ids in the fixture's byte-level tokenizer
CHATS = [
    [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "And Italy?"},
        {"role": "assistant", "content": "Rome."},
    ],
]


def byte_ids(text: str) -> list[int]:
    """The fixture tokenizer has no merges: one id per UTF-8 byte."""
    return list(text.encode("utf-8"))


def chatml(chat: list[dict]) -> tuple[list[int], list[int]]:
    """ChatML ids and HF labels: assistant content and its <|im_end|> learned, the rest -100."""
    turns = chat if chat[0]["role"] == "system" else [{"role": "system", "content": SYSTEM}] + chat
    ids, labels = [], []
    for turn in turns:
        learned = turn["role"] == "assistant"
        head = [IM_START] + byte_ids(turn["role"] + "\n")
        body = byte_ids(turn["content"]) + [IM_END]
        tail = byte_ids("\n")
        ids += head + body + tail
        labels += [-100] * len(head) + (body if learned else [-100] * len(body)) + [-100] * len(tail)
    return ids, labels


def padded_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    rows = [chatml(c) for c in CHATS]
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, (row_ids, row_labels) in enumerate(rows):
        ids[r, : len(row_ids)] = torch.tensor(row_ids)
        labels[r, : len(row_labels)] = torch.tensor(row_labels)
        mask[r, : len(row_ids)] = 1
    return ids, labels, mask, mask.sum(1)


def peft_model() -> torch.nn.Module:
    base = Qwen2ForCausalLM.from_pretrained(BASE, attn_implementation="eager", dtype=torch.float32)
    config = LoraConfig(
        r=4, lora_alpha=6, use_rslora=True, target_modules=TARGETS, lora_dropout=0.0,
        bias="none", task_type="CAUSAL_LM",
    )
    torch.manual_seed(1234)  # lora_A's kaiming init and the lora_B values below
    model = get_peft_model(base, config)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn_like(param) * 0.05)
    return model.eval()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--check-ours":
        return check_ours(pathlib.Path(sys.argv[2]))
    model = peft_model()
    ids, labels, mask, lengths = padded_batch()
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    ref = {
        "ids": ids.int(),
        "lengths": lengths.int(),
        "labels": labels.int(),
        "logits": out.logits.detach().float(),
        "loss": out.loss.detach().reshape(1),
    }
    for name, param in model.named_parameters():
        if param.grad is not None:
            ref["grad." + name.replace(".default", "")] = param.grad.detach().clone()
    OUT.mkdir(parents=True, exist_ok=True)
    model.peft_config["default"].base_model_name_or_path = "tiny-qwen2"  # not this machine's path
    model.save_pretrained(OUT)
    (OUT / "README.md").unlink(missing_ok=True)  # PEFT's model-card template
    save_file(ref, str(OUT / "reference.safetensors"))
    (OUT / "chats.json").write_text(json.dumps(CHATS, indent=1) + "\n")
    print(f"loss {out.loss.item():.6f}; {sum(k.startswith('grad.') for k in ref)} gradients")


def check_ours(folder: pathlib.Path) -> None:
    base = Qwen2ForCausalLM.from_pretrained(BASE, attn_implementation="eager", dtype=torch.float32)
    ref = load_file(str(folder / "logits.safetensors"))
    with torch.no_grad():
        plain = base(input_ids=ref["ids"].long()).logits
        model = PeftModel.from_pretrained(base, folder).eval()
        logits = model(input_ids=ref["ids"].long()).logits
    print(f"max |PEFT(our adapter) - ours| = {(logits - ref['logits']).abs().max().item():.3e}")
    print(f"max |base without adapter - ours| = {(plain - ref['logits']).abs().max().item():.3e}")


if __name__ == "__main__":
    main()
