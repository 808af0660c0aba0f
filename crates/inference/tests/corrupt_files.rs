//! Malformed inputs must come back as coded errors, never as panics or aborts.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use opt_native_inference::qwen2_audio::{AudioLoadOptions, AudioModel};
use opt_native_inference::{LoadOptions, TextModel};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch folder per case (no tempfile dependency).
fn scratch() -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("opt-native-inference-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn opts() -> LoadOptions {
    LoadOptions {
        tokenizer_path: Some(fixture("tiny-qwen2/tokenizer.json")),
        ..Default::default()
    }
}

fn load_code(path: &Path) -> Option<&'static str> {
    let result =
        std::panic::catch_unwind(|| TextModel::load(path, &opts()).err().map(|e| e.code()));
    result.unwrap_or_else(|_| panic!("load panicked on {}", path.display()))
}

fn write_gguf(bytes: &[u8]) -> PathBuf {
    let path = scratch().join("model.gguf");
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A copy of the tiny HF folder with `model.safetensors` replaced by `bytes`.
fn write_safetensors(bytes: &[u8]) -> PathBuf {
    let dir = scratch();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(fixture("tiny-qwen2").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("model.safetensors"), bytes).unwrap();
    dir
}

/// Offset of the first tensor info (after the metadata), where shapes and offsets live.
fn header_len(bytes: &[u8]) -> usize {
    // The header (metadata + tensor infos) ends before the first 32-byte-aligned tensor data;
    // for the tiny fixture it is well inside the first 4 KiB.
    bytes.len().min(4096)
}

#[test]
fn truncated_and_bad_magic_gguf_files_are_format_errors() {
    let good = std::fs::read(fixture("tiny-qwen2.f32.gguf")).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..40 {
        let cut = rng.random_range(0..good.len() - 1);
        assert_eq!(
            load_code(&write_gguf(&good[..cut])),
            Some("E_MODEL_FORMAT"),
            "truncated at {cut}"
        );
    }
    let mut bad_magic = good.clone();
    bad_magic[0] = b'X';
    assert_eq!(load_code(&write_gguf(&bad_magic)), Some("E_MODEL_FORMAT"));
    let mut bad_version = good.clone();
    bad_version[4] = 99;
    assert_eq!(load_code(&write_gguf(&bad_version)), Some("E_MODEL_FORMAT"));
}

#[test]
fn huge_counts_in_gguf_header_are_format_errors() {
    let good = std::fs::read(fixture("tiny-qwen2.f32.gguf")).unwrap();
    // v3 layout: magic(4) version(4) tensor_count(u64 @8) kv_count(u64 @16).
    for (offset, value) in [
        (8usize, u64::MAX),
        (8, 1 << 40),
        (16, u64::MAX),
        (16, 1 << 33),
        (8, 0),
    ] {
        let mut bytes = good.clone();
        bytes[offset..offset + 8].copy_from_slice(&value.to_le_bytes());
        assert_eq!(
            load_code(&write_gguf(&bytes)),
            Some("E_MODEL_FORMAT"),
            "@{offset} = {value}"
        );
    }
}

#[test]
fn random_gguf_header_mutations_never_panic() {
    let good = std::fs::read(fixture("tiny-qwen2.f32.gguf")).unwrap();
    let end = header_len(&good);
    let mut rng = StdRng::seed_from_u64(7);
    let mut failures = 0;
    for _ in 0..150 {
        let mut bytes = good.clone();
        for _ in 0..rng.random_range(1..6) {
            let at = rng.random_range(8..end);
            bytes[at] = if rng.random_bool(0.5) {
                rng.random()
            } else {
                0xff
            };
        }
        // Flips inside names or unused metadata may leave a loadable file; anything else must be
        // a coded error, and nothing may panic.
        if let Some(code) = load_code(&write_gguf(&bytes)) {
            assert!(
                [
                    "E_MODEL_FORMAT",
                    "E_TOKENIZER",
                    "E_BAD_INPUT",
                    "E_INFERENCE"
                ]
                .contains(&code),
                "{code}"
            );
            failures += 1;
        }
    }
    assert!(
        failures > 50,
        "most header mutations should be rejected ({failures}/150)"
    );
}

#[test]
fn corrupt_safetensors_headers_are_format_errors() {
    let good = std::fs::read(fixture("tiny-qwen2/model.safetensors")).unwrap();
    let header = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let mut cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        good[..5].to_vec(),
        good[..8 + header / 2].to_vec(),
        good[..good.len() - 100].to_vec(),
    ];
    for len in [u64::MAX, 1 << 40, good.len() as u64] {
        let mut bytes = good.clone();
        bytes[..8].copy_from_slice(&len.to_le_bytes());
        cases.push(bytes);
    }
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..60 {
        let mut bytes = good.clone();
        let at = rng.random_range(8..8 + header);
        bytes[at] = *b"{}[]\",:0123456789x".get(rng.random_range(0..18)).unwrap();
        cases.push(bytes);
    }
    let mut rejected = 0;
    for bytes in &cases {
        let code = load_code(&write_safetensors(bytes));
        if let Some(code) = code {
            assert_eq!(code, "E_MODEL_FORMAT");
            rejected += 1;
        }
    }
    assert!(
        rejected >= 7 + 30,
        "rejected only {rejected} of {}",
        cases.len()
    );
}

#[test]
fn missing_things_have_their_own_codes() {
    assert_eq!(
        load_code(Path::new("/nonexistent/model.gguf")),
        Some("E_MODEL_NOT_FOUND")
    );
    let empty = scratch();
    assert_eq!(load_code(&empty), Some("E_MODEL_NOT_FOUND"));
    std::fs::copy(fixture("tiny-qwen2/config.json"), empty.join("config.json")).unwrap();
    assert_eq!(load_code(&empty), Some("E_MODEL_NOT_FOUND"));
    // A GGUF without a tokenizer beside it and none given.
    let gguf = write_gguf(&std::fs::read(fixture("tiny-qwen2.f32.gguf")).unwrap());
    let err = TextModel::load(&gguf, &LoadOptions::default())
        .err()
        .unwrap();
    assert_eq!(err.code(), "E_TOKENIZER");
    let bad_tok = LoadOptions {
        tokenizer_path: Some(empty.join("config.json")),
        ..Default::default()
    };
    assert_eq!(
        TextModel::load(&gguf, &bad_tok).err().unwrap().code(),
        "E_TOKENIZER"
    );
}

#[test]
fn unsupported_config_is_refused_at_load() {
    let dir = write_safetensors(&std::fs::read(fixture("tiny-qwen2/model.safetensors")).unwrap());
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        config.replace("\"silu\"", "\"gelu\""),
    )
    .unwrap();
    assert_eq!(load_code(&dir), Some("E_MODEL_FORMAT"));
    // Shapes that disagree with the weights.
    std::fs::write(
        dir.join("config.json"),
        config.replace("\"intermediate_size\": 96", "\"intermediate_size\": 128"),
    )
    .unwrap();
    assert_eq!(load_code(&dir), Some("E_MODEL_FORMAT"));
}

/// `dir/model/` whose index names `../x.safetensors`: a real copy of `fixture`'s weights one level
/// up, so only the name can be the reason for refusing it.
fn folder_with_outside_shard(fixture_name: &str) -> PathBuf {
    let root = scratch();
    let dir = root.join("model");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(fixture(fixture_name).join(f), dir.join(f)).unwrap();
    }
    let weights = fixture(fixture_name).join("model.safetensors");
    std::fs::copy(weights, root.join("x.safetensors")).unwrap();
    let index = r#"{"weight_map": {"model.embed_tokens.weight": "../x.safetensors"}}"#;
    std::fs::write(dir.join("model.safetensors.index.json"), index).unwrap();
    dir
}

fn audio_load_code(dir: &Path) -> Option<&'static str> {
    AudioModel::load(dir, &AudioLoadOptions::default())
        .err()
        .map(|e| e.code())
}

#[test]
fn a_shard_outside_the_folder_is_refused_by_text_and_audio_alike() {
    let text = load_code(&folder_with_outside_shard("tiny-qwen2"));
    let audio = audio_load_code(&folder_with_outside_shard("tiny-qwen2-audio"));
    assert_eq!(text, Some("E_MODEL_NOT_FOUND"));
    assert_eq!(audio, text);
}

#[test]
fn audio_without_config_or_weights_is_not_found_like_text() {
    let dir = scratch();
    let audio = fixture("tiny-qwen2-audio");
    std::fs::copy(audio.join("tokenizer.json"), dir.join("tokenizer.json")).unwrap();
    assert_eq!(audio_load_code(&dir), Some("E_MODEL_NOT_FOUND"));
    std::fs::copy(audio.join("config.json"), dir.join("config.json")).unwrap();
    assert_eq!(audio_load_code(&dir), Some("E_MODEL_NOT_FOUND"));
}
