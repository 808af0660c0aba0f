//! Shared helpers for the fixture tests (fixtures made by scripts/make_qwen2_fixture.py).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{Device, Tensor};
use opt_native_inference::{LoadOptions, TextModel};

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
