//! Tiny random Qwen2-Audio vs transformers/PEFT on the same weights, audio and prompt
//! (fixture made by `scripts/make_qwen2_audio_fixture.py`).

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use common::{ids, max_abs_diff};
use opt_native_inference::qwen2_audio::{audio_token_count, expand_audio_tokens, Qwen2AudioModel};

const TOLERANCE: f32 = 1e-4;
const AUDIO_TOKEN: u32 = 500;

fn fixture_dir() -> PathBuf {
    common::fixture("tiny-qwen2-audio")
}

fn golden() -> HashMap<String, Tensor> {
    candle_core::safetensors::load(fixture_dir().join("golden.safetensors"), &Device::Cpu).unwrap()
}

fn load(with_lora: bool) -> Qwen2AudioModel {
    let adapter = fixture_dir().join("lora");
    let adapter = with_lora.then_some(adapter.as_path());
    Qwen2AudioModel::load(&fixture_dir(), adapter, &Device::Cpu, DType::F32).unwrap()
}

fn labels(g: &HashMap<String, Tensor>) -> Vec<Vec<u32>> {
    let lens = g["label_lens"].to_vec1::<i64>().unwrap();
    let rows = g["label_ids"].to_vec2::<i64>().unwrap();
    rows.iter()
        .zip(lens)
        .map(|(row, len)| row[..len as usize].iter().map(|&x| x as u32).collect())
        .collect()
}

fn check_model(with_lora: bool, prefix: &str) {
    let g = golden();
    let mut model = load(with_lora);
    let wave = g["wave"].to_vec1::<f32>().unwrap();
    let audio = model.audio_embeddings(&wave).unwrap();
    let embed_diff = max_abs_diff(&audio, &g[&format!("{prefix}audio_embeds")]);
    assert!(
        embed_diff <= TOLERANCE,
        "{prefix}audio embeddings max |Δ| = {embed_diff}"
    );

    let prompt = ids(&g["input_ids"]);
    let logits = model.logits(&prompt, std::slice::from_ref(&audio)).unwrap();
    let logit_diff = max_abs_diff(&logits, &g[&format!("{prefix}logits")]);
    assert!(
        logit_diff <= TOLERANCE,
        "{prefix}logits max |Δ| = {logit_diff}"
    );

    let scores = model.score_labels(&prompt, &[audio], &labels(&g)).unwrap();
    let expected = g[&format!("{prefix}label_logprobs")]
        .to_vec1::<f32>()
        .unwrap();
    for (score, want) in scores.iter().zip(expected) {
        assert!(
            (score.logprob - want).abs() <= TOLERANCE,
            "{prefix}label logprob {} vs {want}",
            score.logprob
        );
    }
}

#[test]
fn base_model_matches_transformers() {
    check_model(false, "");
}

#[test]
fn lora_adapter_matches_peft() {
    check_model(true, "lora_");
}

#[test]
fn greedy_generation_matches_transformers() {
    let g = golden();
    let mut model = load(false);
    let audio = model
        .audio_embeddings(&g["wave"].to_vec1::<f32>().unwrap())
        .unwrap();
    let expected = ids(&g["greedy_ids"]);
    let generated = model
        .generate_greedy(
            &ids(&g["input_ids"]),
            std::slice::from_ref(&audio),
            expected.len(),
            &[],
        )
        .unwrap();
    assert_eq!(generated, expected);
    // A stop id ends generation right after it is produced.
    let stopped = model
        .generate_greedy(&ids(&g["input_ids"]), &[audio], 10, &[expected[1]])
        .unwrap();
    assert_eq!(stopped, expected[..2].to_vec());
}

#[test]
fn placeholder_expansion_reproduces_the_processor_ids_and_the_encoder_is_cached() {
    let g = golden();
    let mut model = load(false);
    let wave = g["wave"].to_vec1::<f32>().unwrap();
    let expanded = ids(&g["input_ids"]);
    let mut compact = expanded.clone();
    compact.dedup_by(|a, b| *a == AUDIO_TOKEN && *b == AUDIO_TOKEN);
    let n_tokens = audio_token_count(wave.len());
    assert_eq!(
        expand_audio_tokens(&compact, AUDIO_TOKEN, &[n_tokens]).unwrap(),
        expanded
    );

    let first = model.audio_embeddings(&wave).unwrap();
    assert_eq!(first.dim(0).unwrap(), n_tokens);
    let second = model.audio_embeddings(&wave).unwrap();
    assert_eq!(model.cache_stats(), (1, 1));
    assert_eq!(max_abs_diff(&first, &second), 0.0);

    let err = model.logits(&compact, &[first]).unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
}

#[test]
fn missing_adapter_and_too_short_audio_have_codes() {
    let missing = Qwen2AudioModel::load(
        &fixture_dir(),
        Some(Path::new("/nonexistent")),
        &Device::Cpu,
        DType::F32,
    );
    assert_eq!(missing.err().unwrap().code(), "E_MODEL_FORMAT");
    let mut model = load(false);
    assert_eq!(
        model.audio_embeddings(&[0.1; 100]).unwrap_err().code(),
        "E_BAD_AUDIO"
    );
}
