//! A LoRA adapter at text-model load: merged into the dense (safetensors) fixture, kept unmerged
//! on the GGUF ones; both equal the training forward with the same adapter, PEFT's own adapter
//! gives PEFT's logits, a zero `lora_B` is the base exactly, and bad adapters get coded errors.

mod common;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use common::random_qwen2::{all_targets, random_tensors, randomize_b, source, tiny_config};
use opt_native_inference::loader::open_weights;
use opt_native_inference::train::adapter::{load_with_adapter, save_adapter};
use opt_native_inference::train::{LoraSpec, Target, TrainModel};
use opt_native_inference::weights::Weights;
use opt_native_inference::{BatchLayout, DecoderInput, LoadOptions, TextModel};

const TOKENS: [u32; 12] = [84, 104, 101, 32, 99, 97, 112, 105, 116, 97, 108, 33];

/// A fresh folder under the system temp dir, unique per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("text-adapter-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn load(model: &str, adapter: Option<&Path>) -> opt_native_inference::Result<TextModel> {
    let opts = LoadOptions {
        tokenizer_path: Some(common::fixture("tiny-qwen2/tokenizer.json")),
        adapter: adapter.map(Path::to_path_buf),
        ..Default::default()
    };
    TextModel::load(&common::fixture(model), &opts)
}

fn ids(tokens: &[u32]) -> Tensor {
    Tensor::new(tokens, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap()
}

/// Logits `(1, seq, vocab)` of one plain forward.
fn logits(model: &TextModel, tokens: &[u32]) -> Tensor {
    let dec = model.decoder();
    let hidden = dec
        .forward_hidden(
            DecoderInput::Tokens(&ids(tokens)),
            &BatchLayout::unpadded(1),
            &mut dec.new_cache(),
        )
        .unwrap();
    dec.logits(&hidden).unwrap()
}

fn training_logits(model: &TrainModel, tokens: &[u32]) -> Tensor {
    let hidden = model
        .forward_hidden(&ids(tokens), &[tokens.len()], None)
        .unwrap();
    model.logits(&hidden).unwrap()
}

/// The training model on `model`'s weights with the adapter in `dir`.
fn train_with(model: &str, dir: &Path) -> TrainModel {
    let opened = open_weights(&common::fixture(model), &Device::Cpu, DType::F32).unwrap();
    let vb = Weights::new(&opened.source, DType::F32);
    load_with_adapter(&opened.config, &vb, dir, DType::F32, &Device::Cpu).unwrap()
}

/// Saves an rsLoRA adapter on every target of the dense fixture; `b_scale` 0 keeps `lora_B` zero.
fn saved_adapter(name: &str, b_scale: f64) -> PathBuf {
    let opened = open_weights(&common::fixture("tiny-qwen2"), &Device::Cpu, DType::F32).unwrap();
    let vb = Weights::new(&opened.source, DType::F32);
    let spec = LoraSpec {
        use_rslora: true,
        ..all_targets()
    };
    let model = TrainModel::new(&opened.config, &vb, spec, DType::F32, &Device::Cpu).unwrap();
    if b_scale > 0.0 {
        randomize_b(&model, b_scale);
    }
    let dir = scratch(name);
    save_adapter(&model, &dir, Some("tiny-qwen2")).unwrap();
    dir
}

#[test]
fn dense_base_merges_and_equals_the_training_forward() {
    let dir = saved_adapter("dense", 0.3);
    let model = load("tiny-qwen2", Some(&dir)).unwrap();
    let info = model.info().adapter.expect("adapter info");
    assert!(info.merged);
    assert_eq!((info.rank, info.alpha, info.use_rslora), (2, 3.0, true));
    assert!((info.scale - 3.0 / 2f64.sqrt()).abs() < 1e-12);
    assert_eq!(info.targets.len(), 7);
    let got = logits(&model, &TOKENS);
    let want = training_logits(&train_with("tiny-qwen2", &dir), &TOKENS);
    let diff = common::max_abs_diff(&got, &want);
    assert!(diff < 1e-4, "{diff}");
    let base = logits(&load("tiny-qwen2", None).unwrap(), &TOKENS);
    assert!(
        common::max_abs_diff(&got, &base) > 1e-2,
        "the adapter changes the output"
    );
}

#[test]
fn quantized_bases_keep_it_unmerged_and_equal_the_training_forward() {
    let dir = saved_adapter("gguf", 0.3);
    for gguf in ["tiny-qwen2.f32.gguf", "tiny-qwen2.q8_0.gguf"] {
        let model = load(gguf, Some(&dir)).unwrap();
        let info = model.info().adapter.expect("adapter info");
        assert!(!info.merged, "{gguf}");
        let got = logits(&model, &TOKENS);
        let want = training_logits(&train_with(gguf, &dir), &TOKENS);
        let diff = common::max_abs_diff(&got, &want);
        assert!(diff < 1e-4, "{gguf}: {diff}");
        let base = logits(&load(gguf, None).unwrap(), &TOKENS);
        assert!(common::max_abs_diff(&got, &base) > 1e-2, "{gguf}");
    }
}

/// HF PEFT's saved adapter (scripts/make_lora_fixture.py) on both the dense and the f32 GGUF
/// base gives PEFT + transformers' logits at every real position.
#[test]
fn peft_adapter_gives_the_reference_logits() {
    let reference = common::reference("tiny-qwen2-lora");
    let rows: Vec<Vec<u32>> = reference["ids"]
        .to_dtype(DType::U32)
        .unwrap()
        .to_vec2()
        .unwrap();
    let lengths = common::ids(&reference["lengths"]);
    let dir = common::fixture("tiny-qwen2-lora");
    for base in ["tiny-qwen2", "tiny-qwen2.f32.gguf"] {
        let model = load(base, Some(&dir)).unwrap();
        for (r, row) in rows.iter().enumerate() {
            let len = lengths[r] as usize;
            let ours = logits(&model, &row[..len]).squeeze(0).unwrap();
            let theirs = reference["logits"]
                .get(r)
                .unwrap()
                .narrow(0, 0, len)
                .unwrap();
            let diff = common::max_abs_diff(&ours, &theirs);
            assert!(diff < 1e-4, "{base} row {r}: {diff}");
        }
    }
}

#[test]
fn zero_lora_b_gives_exactly_the_base_logits() {
    let dir = saved_adapter("zero-b", 0.0);
    for base in ["tiny-qwen2", "tiny-qwen2.f32.gguf", "tiny-qwen2.q8_0.gguf"] {
        let adapted = logits(&load(base, Some(&dir)).unwrap(), &TOKENS);
        let plain = logits(&load(base, None).unwrap(), &TOKENS);
        assert_eq!(common::max_abs_diff(&adapted, &plain), 0.0, "{base}");
    }
}

/// `load_in_4bit` quantizes the dense weights: the adapter stays beside them, unmerged, and
/// changes the output; with `lora_B = 0` it is the 4-bit base exactly.
#[test]
fn load_in_4bit_keeps_the_adapter_unmerged() {
    let load_4bit = |adapter: Option<&Path>| {
        let opts = LoadOptions {
            tokenizer_path: Some(common::fixture("tiny-qwen2/tokenizer.json")),
            load_in_4bit: true,
            adapter: adapter.map(Path::to_path_buf),
            ..Default::default()
        };
        TextModel::load(&common::fixture("tiny-qwen2"), &opts).unwrap()
    };
    let base = logits(&load_4bit(None), &TOKENS);
    let trained = saved_adapter("4bit", 0.3);
    let adapted = load_4bit(Some(&trained));
    assert_eq!(adapted.info().adapter.map(|a| a.merged), Some(false));
    assert!(common::max_abs_diff(&logits(&adapted, &TOKENS), &base) > 1e-2);
    let zero = load_4bit(Some(&saved_adapter("4bit-zero", 0.0)));
    assert_eq!(common::max_abs_diff(&logits(&zero, &TOKENS), &base), 0.0);
}

fn error_code(adapter: &Path) -> (String, String) {
    match load("tiny-qwen2", Some(adapter)) {
        Ok(_) => panic!("{} loaded", adapter.display()),
        Err(e) => (e.code().to_string(), e.message_line()),
    }
}

/// Rewrites one field of a copy of the PEFT fixture's adapter_config.json.
fn edited_fixture(name: &str, key: &str, value: serde_json::Value) -> PathBuf {
    let src = common::fixture("tiny-qwen2-lora");
    let dir = scratch(name);
    std::fs::copy(
        src.join("adapter_model.safetensors"),
        dir.join("adapter_model.safetensors"),
    )
    .unwrap();
    let text = std::fs::read_to_string(src.join("adapter_config.json")).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&text).unwrap();
    config[key] = value;
    std::fs::write(dir.join("adapter_config.json"), config.to_string()).unwrap();
    dir
}

#[test]
fn a_missing_adapter_folder_is_model_not_found() {
    let (code, message) = error_code(Path::new("/nonexistent/adapter"));
    assert_eq!(code, "E_MODEL_NOT_FOUND");
    assert!(message.contains("/nonexistent/adapter"), "{message}");
}

#[test]
fn an_adapter_for_another_shape_or_architecture_is_refused() {
    // Trained on a decoder of hidden size 16; the fixture's is 64.
    let cfg = tiny_config(true);
    let weights = source(random_tensors(&cfg, 9), DType::F32);
    let other = common::random_qwen2::train_model(&weights, &cfg, all_targets(), DType::F32);
    let dir = scratch("other-shape");
    save_adapter(&other, &dir, None).unwrap();
    let (code, message) = error_code(&dir);
    assert_eq!(code, "E_MODEL_FORMAT");
    assert!(message.contains("do not fit"), "{message}");
    // Qwen2-Audio's adapter names the audio tower and the nested language model.
    let (code, message) = error_code(&common::fixture("tiny-qwen2-audio/lora"));
    assert_eq!(code, "E_MODEL_FORMAT");
    assert!(message.contains("LoRA"), "{message}");
}

#[test]
fn rank_zero_unknown_targets_and_rank_mismatch_are_refused() {
    let cases = [
        ("rank-0", "r", serde_json::json!(0), "r = 0"),
        (
            "target",
            "target_modules",
            serde_json::json!(["q_proj", "fc1"]),
            "'fc1'",
        ),
        ("rank-8", "r", serde_json::json!(8), "r = 8"),
        (
            "unlisted",
            "target_modules",
            serde_json::json!(["q_proj"]),
            "target_modules",
        ),
    ];
    for (name, key, value, needle) in cases {
        let (code, message) = error_code(&edited_fixture(name, key, value));
        assert_eq!(code, "E_MODEL_FORMAT", "{name}: {message}");
        assert!(message.contains(needle), "{name}: {message}");
    }
}

#[test]
fn corrupt_or_missing_files_are_refused() {
    let truncated = edited_fixture("truncated", "r", serde_json::json!(4));
    let weights = truncated.join("adapter_model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(error_code(&truncated).0, "E_MODEL_FORMAT");

    let bad_json = edited_fixture("bad-json", "r", serde_json::json!(4));
    std::fs::write(bad_json.join("adapter_config.json"), "{ not json").unwrap();
    assert_eq!(error_code(&bad_json).0, "E_MODEL_FORMAT");

    let empty = scratch("empty");
    let (code, message) = error_code(&empty);
    assert_eq!(code, "E_MODEL_FORMAT");
    assert!(message.contains("adapter_config.json"), "{message}");
}

/// Targets come from the tensors: an adapter on two projections adapts exactly those.
#[test]
fn info_lists_the_adapted_projections() {
    let opened = open_weights(&common::fixture("tiny-qwen2"), &Device::Cpu, DType::F32).unwrap();
    let vb = Weights::new(&opened.source, DType::F32);
    let spec = LoraSpec {
        targets: vec![Target::VProj, Target::QProj],
        ..all_targets()
    };
    let model = TrainModel::new(&opened.config, &vb, spec, DType::F32, &Device::Cpu).unwrap();
    let dir = scratch("two-targets");
    save_adapter(&model, &dir, None).unwrap();
    let info = load("tiny-qwen2.q8_0.gguf", Some(&dir))
        .unwrap()
        .info()
        .adapter
        .unwrap();
    assert_eq!(info.targets, ["q_proj", "v_proj"]);
    assert_eq!((info.rank, info.merged), (2, false));
}
