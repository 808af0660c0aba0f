//! Shared helpers for the fixture tests (fixtures made by scripts/make_qwen2_fixture.py).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use opt_native_inference::{BatchLayout, DecoderInput, LoadOptions, TextModel};

pub mod random_qwen2;

/// Same strings as scripts/make_qwen2_fixture.py.
pub const PROMPT: &str = "The capital of France is";
pub const BATCH_PROMPTS: [&str; 2] = ["Hi there", "A longer prompt!"];
pub const CHOICES: [&str; 3] = [" Paris", " London", " Rome!"];

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn reference(folder: &str) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture(folder).join("reference.safetensors"), &Device::Cpu)
        .unwrap()
}

pub fn load(name: &str) -> TextModel {
    let opts = LoadOptions {
        tokenizer_path: Some(fixture("tiny-qwen2/tokenizer.json")),
        ..Default::default()
    };
    TextModel::load(&fixture(name), &opts).unwrap()
}

pub fn ids(t: &Tensor) -> Vec<u32> {
    t.to_dtype(candle_core::DType::U32)
        .unwrap()
        .to_vec1()
        .unwrap()
}

pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap()
}

/// The reference for choice scoring: log p(choice token k | prompt, choice[..k]) read off one
/// plain forward of prompt + choice on a fresh cache (no prefix reuse, no tree, no batching).
pub fn plain_forward_logprobs(model: &TextModel, prompt: &[u32], choice: &[u32]) -> Vec<f32> {
    let dec = model.decoder();
    let ids: Vec<u32> = prompt.iter().chain(choice).copied().collect();
    let input = Tensor::new(ids.as_slice(), &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let hidden = dec
        .forward_hidden(
            DecoderInput::Tokens(&input),
            &BatchLayout::unpadded(1),
            &mut dec.new_cache(),
        )
        .unwrap();
    let logits = dec.logits(&hidden.squeeze(0).unwrap()).unwrap();
    let logprobs: Vec<Vec<f32>> = candle_nn::ops::log_softmax(&logits, candle_core::D::Minus1)
        .unwrap()
        .to_vec2()
        .unwrap();
    choice
        .iter()
        .enumerate()
        .map(|(k, &token)| logprobs[prompt.len() - 1 + k][token as usize])
        .collect()
}
