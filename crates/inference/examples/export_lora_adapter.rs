//! Trains a few LoRA steps on the tiny fixture model and saves the adapter plus our logits, so
//! `scripts/make_lora_fixture.py --check-ours DIR` can load it with HF PEFT and compare.
//!
//! `cargo run --release -p opt-native-inference --example export_lora_adapter -- DIR`

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor};
use opt_native_inference::loader::open_weights;
use opt_native_inference::train::adapter::save_adapter;
use opt_native_inference::train::{
    AdamWConfig, LoraSpec, TokenBatch, TokenizedExample, TrainModel, Trainer, TrainerConfig,
};
use opt_native_inference::weights::Weights;
use opt_native_inference::Result;

fn main() -> Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: export_lora_adapter DIR"),
    );
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-qwen2");
    let opened = open_weights(&fixture, &Device::Cpu, DType::F32)?;
    let vb = Weights::new(&opened.source, DType::F32);
    let spec = LoraSpec {
        r: 4,
        alpha: 8.0,
        seed: 3,
        ..LoraSpec::default()
    };
    let model = TrainModel::new(&opened.config, &vb, spec, DType::F32, &Device::Cpu)?;
    let ids: Vec<u32> = "Hello, LoRA world!".bytes().map(u32::from).collect();
    let example = TokenizedExample {
        learned: vec![true; ids.len()],
        ids: ids.clone(),
    };
    let batch = TokenBatch::new(&[&example], 256, &Device::Cpu)?;
    let config = TrainerConfig {
        adamw: AdamWConfig {
            lr: 1e-2, // large enough that the adapter visibly moves the logits
            ..AdamWConfig::default()
        },
        ..TrainerConfig::default()
    };
    let mut trainer = Trainer::new(&model, &config)?;
    for _ in 0..5 {
        trainer.step(&model, std::slice::from_ref(&batch))?;
    }
    save_adapter(&model, &out, Some("tiny-qwen2"))?;
    let input = Tensor::new(ids.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
    let logits = model.logits(&model.forward_hidden(&input, &[ids.len()], None)?)?;
    let tensors = HashMap::from([
        ("ids".to_string(), input.to_dtype(DType::I64)?),
        ("logits".to_string(), logits),
    ]);
    candle_core::safetensors::save(&tensors, out.join("logits.safetensors"))?;
    println!("saved {}", out.display());
    Ok(())
}
