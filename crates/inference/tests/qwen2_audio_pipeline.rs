//! File → decode → log-mel → encoder → decoder, on the tiny random Qwen2-Audio fixture.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{DType, Device};
use opt_native_inference::audio::decode_audio_file;
use opt_native_inference::qwen2_audio::{audio_token_count, expand_audio_tokens, Qwen2AudioModel};

const AUDIO_TOKEN: u32 = 500;
const AUDIO_BOS: u32 = 501;
const AUDIO_EOS: u32 = 502;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tiny_model() -> Qwen2AudioModel {
    let dir = manifest().join("tests/fixtures/tiny-qwen2-audio");
    Qwen2AudioModel::load(&dir, None, &Device::Cpu, DType::F32).unwrap()
}

/// Runs one clip through the whole model; returns the number of audio tokens.
fn classify_file(model: &mut Qwen2AudioModel, path: &Path) -> usize {
    let samples = decode_audio_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let audio = model.audio_embeddings(&samples).unwrap();
    let n_tokens = audio_token_count(samples.len());
    assert_eq!(audio.dims(), &[n_tokens, 32]);
    let prompt = expand_audio_tokens(
        &[3, AUDIO_BOS, AUDIO_TOKEN, AUDIO_EOS, 9],
        AUDIO_TOKEN,
        &[n_tokens],
    )
    .unwrap();
    let scores = model
        .score_labels(&prompt, &[audio], &[vec![7], vec![8, 9]])
        .unwrap();
    assert!(scores
        .iter()
        .all(|s| s.logprob.is_finite() && s.logprob < 0.0));
    n_tokens
}

#[test]
fn every_codec_fixture_runs_through_the_model() {
    let mut model = tiny_model();
    for name in ["tone.wav", "tone.flac", "tone.ogg", "tone.mp3"] {
        let path = manifest().join("tests/fixtures/logmel").join(name);
        // 0.5 s → 50 frames → 25 → 12 tokens (lossy codecs may add a frame of padding).
        assert!(
            (12..=14).contains(&classify_file(&mut model, &path)),
            "{name}"
        );
    }
}

/// Real recordings (not committed): `OPT_NATIVE_AUDIO_SMOKE_DIR=/tmp/debaudio/x cargo test
/// --release -p opt-native-inference --test qwen2_audio_pipeline -- --ignored --nocapture`.
#[test]
#[ignore = "needs OPT_NATIVE_AUDIO_SMOKE_DIR with real recordings"]
fn real_recordings_run_through_the_model() {
    let root = PathBuf::from(std::env::var("OPT_NATIVE_AUDIO_SMOKE_DIR").unwrap());
    let mut model = tiny_model();
    let mut files = Vec::new();
    collect_audio(&root, &mut files);
    assert!(!files.is_empty(), "no audio under {}", root.display());
    let start = Instant::now();
    for path in &files {
        let tokens = classify_file(&mut model, path);
        eprintln!("{} → {tokens} audio tokens", path.display());
    }
    eprintln!("{} files in {:?}", files.len(), start.elapsed());
}

fn collect_audio(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if path.is_dir() {
            collect_audio(&path, out);
        } else if ["wav", "oga", "ogg", "flac", "mp3"].contains(&ext) {
            out.push(path);
        }
    }
}
