//! LoRA training end to end on the tiny fixture model: ChatML tokenization with completion-only
//! masks, a memorization run, PEFT adapter save/load, checkpoint resume, and the coded errors.

mod common;

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use common::random_qwen2::{
    all_targets, random_tensors, randomize_b, source, tiny_config, train_model,
};
use opt_native_inference::loader::{open_weights, OpenedWeights};
use opt_native_inference::tokenizer::TextTokenizer;
use opt_native_inference::train::adapter::{load_with_adapter, save_adapter};
use opt_native_inference::train::checkpoint::{load_checkpoint, save_checkpoint};
use opt_native_inference::train::{
    parse_chat_jsonl, tokenize_chat, LoraSpec, TokenBatch, TrainModel, Trainer, TrainerConfig,
};
use opt_native_inference::weights::Weights;
use opt_native_inference::ChatMessage;

fn tokenizer() -> TextTokenizer {
    TextTokenizer::from_file(&common::fixture("tiny-qwen2/tokenizer.json")).unwrap()
}

fn base() -> OpenedWeights {
    open_weights(&common::fixture("tiny-qwen2"), &Device::Cpu, DType::F32).unwrap()
}

fn fixture_model(opened: &OpenedWeights, spec: LoraSpec) -> TrainModel {
    let vb = Weights::new(&opened.source, DType::F32);
    TrainModel::new(&opened.config, &vb, spec, DType::F32, &Device::Cpu).unwrap()
}

fn chat(pairs: &[(&str, &str)]) -> Vec<ChatMessage> {
    pairs
        .iter()
        .map(|(role, content)| ChatMessage {
            role: role.to_string(),
            content: content.to_string(),
        })
        .collect()
}

const DATA: &str = r#"{"messages":[{"role":"user","content":"Color of the sky?"},{"role":"assistant","content":"Blue."}]}
{"messages":[{"role":"user","content":"2+3?"},{"role":"assistant","content":"Five."}]}

{"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!"}]}
"#;

fn batch(tok: &TextTokenizer) -> TokenBatch {
    let examples: Vec<_> = parse_chat_jsonl(DATA)
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, c)| tokenize_chat(tok, c, 128, i + 1).unwrap())
        .collect();
    let refs: Vec<_> = examples.iter().collect();
    TokenBatch::new(&refs, tok.pad_id(), &Device::Cpu).unwrap()
}

/// The training ids of prompt + answer start with the inference prompt ids (same template), and
/// exactly the answer and its `<|im_end|>` are learned.
#[test]
fn completion_only_mask_covers_the_answer_and_its_end_token() {
    let tok = tokenizer();
    let messages = chat(&[("user", "2+3?"), ("assistant", "Five.")]);
    let example = tokenize_chat(&tok, &messages, 512, 1).unwrap();
    let mut prompt = tok.encode_chat(&messages[..1]).unwrap();
    assert_eq!(example.ids[..prompt.len()], prompt[..]);
    let learned: Vec<u32> = example
        .ids
        .iter()
        .zip(&example.learned)
        .filter(|(_, &l)| l)
        .map(|(&id, _)| id)
        .collect();
    prompt.extend(&learned);
    assert_eq!(learned.len(), "Five.".len() + 1);
    assert_eq!(Some(*learned.last().unwrap()), tok.token_id("<|im_end|>"));
    assert_eq!(tok.decode(&learned).unwrap(), "Five.");
    assert_eq!(
        example.ids[..prompt.len()],
        prompt[..],
        "answer follows the prompt"
    );
}

/// Forty AdamW steps on three chats: the completion loss falls well below its start.
#[test]
fn adamw_steps_memorize_a_tiny_set() {
    let opened = base();
    let spec = LoraSpec {
        r: 8,
        alpha: 16.0,
        ..all_targets()
    };
    let model = fixture_model(&opened, spec);
    let config = TrainerConfig {
        warmup_steps: 3,
        total_steps: Some(40),
        ..TrainerConfig::default()
    };
    let mut trainer = Trainer::new(
        &model,
        &TrainerConfig {
            adamw: opt_native_inference::train::AdamWConfig {
                lr: 1e-2,
                ..Default::default()
            },
            ..config
        },
    )
    .unwrap();
    let batch = batch(&tokenizer());
    let first = model.mean_loss(&batch).unwrap();
    let mut reports = Vec::new();
    for _ in 0..40 {
        reports.push(trainer.step(&model, std::slice::from_ref(&batch)).unwrap());
    }
    let last = model.mean_loss(&batch).unwrap();
    assert!((reports[0].loss - first).abs() < 1e-4);
    assert!(last < 0.25 * first, "loss {first} -> {last}");
    assert_eq!(reports[39].step, 40);
    assert!(reports[0].lr < reports[2].lr, "warm-up");
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("opt-native-lora-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Saved with PEFT's names and config; loading it back gives the same model.
#[test]
fn adapter_save_load_round_trip() {
    let cfg = tiny_config(false);
    let weights = source(random_tensors(&cfg, 8), DType::F32);
    let spec = LoraSpec {
        targets: vec![
            opt_native_inference::train::Target::VProj,
            opt_native_inference::train::Target::QProj,
        ],
        use_rslora: true,
        ..all_targets()
    };
    let model = train_model(&weights, &cfg, spec, DType::F32);
    randomize_b(&model, 0.3);
    let dir = scratch("round-trip");
    save_adapter(&model, &dir, Some("tiny")).unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(config["peft_type"], "LORA");
    assert_eq!(config["task_type"], "CAUSAL_LM");
    assert_eq!(
        config["target_modules"],
        serde_json::json!(["q_proj", "v_proj"])
    );
    assert_eq!(
        (config["r"].as_u64(), config["use_rslora"].as_bool()),
        (Some(2), Some(true))
    );
    let tensors =
        candle_core::safetensors::load(dir.join("adapter_model.safetensors"), &Device::Cpu)
            .unwrap();
    let mut names: Vec<_> = tensors.keys().cloned().collect();
    names.sort();
    assert_eq!(names.len(), 8);
    assert_eq!(
        names[0],
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
    );
    let loaded = load_with_adapter(
        &cfg,
        &Weights::new(&weights, DType::F32),
        &dir,
        DType::F32,
        &Device::Cpu,
    )
    .unwrap();
    let ids = Tensor::new(&[[3u32, 9, 27, 1, 5]], &Device::Cpu).unwrap();
    let logits = |m: &TrainModel| {
        m.logits(&m.forward_hidden(&ids, &[5], None).unwrap())
            .unwrap()
    };
    assert_eq!(common::max_abs_diff(&logits(&model), &logits(&loaded)), 0.0);
    assert_eq!(loaded.spec().scale(), model.spec().scale());
}

fn adapter_values(model: &TrainModel) -> Vec<f32> {
    model
        .vars()
        .iter()
        .flat_map(|v| {
            v.as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        })
        .collect()
}

/// Steps 1-3, checkpoint, steps 4-5 give the same adapter as resuming from the checkpoint and
/// taking steps 4-5 there (moments, step count and dropout seeds all restored).
#[test]
fn a_resumed_run_continues_exactly() {
    let opened = base();
    let spec = LoraSpec {
        dropout: 0.1,
        seed: 11,
        ..all_targets()
    };
    let config = TrainerConfig {
        warmup_steps: 2,
        ..TrainerConfig::default()
    };
    let batch = batch(&tokenizer());
    let model = fixture_model(&opened, spec);
    let mut trainer = Trainer::new(&model, &config).unwrap();
    let dir = scratch("resume").join("checkpoint");
    for step in 0..5 {
        if step == 3 {
            save_checkpoint(&dir, &model, &trainer, None).unwrap();
        }
        trainer.step(&model, std::slice::from_ref(&batch)).unwrap();
    }
    let vb = Weights::new(&opened.source, DType::F32);
    let (resumed, mut resumed_trainer) =
        load_checkpoint(&dir, &opened.config, &vb, &config, DType::F32, &Device::Cpu).unwrap();
    assert_eq!(resumed_trainer.steps_taken(), 3);
    for _ in 0..2 {
        resumed_trainer
            .step(&resumed, std::slice::from_ref(&batch))
            .unwrap();
    }
    assert_eq!(adapter_values(&resumed), adapter_values(&model));
}

fn code(err: opt_native_inference::InferenceError) -> &'static str {
    err.code()
}

#[test]
fn a_dataset_line_without_an_assistant_turn_is_refused_with_its_line() {
    let text = format!(
        "{}\n{}\n",
        DATA.lines().next().unwrap(),
        r#"{"messages":[{"role":"user","content":"hi"}]}"#
    );
    let err = parse_chat_jsonl(&text).unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
    assert!(
        err.to_string().contains("line 2: no assistant turn"),
        "{err}"
    );
    assert_eq!(
        code(parse_chat_jsonl("not json\n").unwrap_err()),
        "E_BAD_INPUT"
    );
    assert_eq!(code(parse_chat_jsonl("\n").unwrap_err()), "E_BAD_INPUT");
}

#[test]
fn rank_zero_is_refused() {
    let opened = base();
    let vb = Weights::new(&opened.source, DType::F32);
    let spec = LoraSpec {
        r: 0,
        ..LoraSpec::default()
    };
    let err = TrainModel::new(&opened.config, &vb, spec, DType::F32, &Device::Cpu)
        .err()
        .unwrap();
    assert_eq!(err.code(), "E_BAD_INPUT");
    assert!(err.to_string().contains("rank"), "{err}");
}

/// An adapter trained on another model (hidden size 16) does not load onto the fixture (64).
#[test]
fn an_adapter_whose_shapes_do_not_fit_is_refused() {
    let cfg = tiny_config(false);
    let weights = source(random_tensors(&cfg, 9), DType::F32);
    let model = train_model(&weights, &cfg, all_targets(), DType::F32);
    let dir = scratch("mismatch");
    save_adapter(&model, &dir, None).unwrap();
    let opened = base();
    let vb = Weights::new(&opened.source, DType::F32);
    let err = load_with_adapter(&opened.config, &vb, &dir, DType::F32, &Device::Cpu)
        .err()
        .unwrap();
    assert_eq!(err.code(), "E_MODEL_FORMAT");
    assert!(err.to_string().contains("do not fit the weight"), "{err}");
    assert_audio_adapter_refused(&dir, &opened);
}

/// Qwen2-Audio's adapter names (`language_model.model.layers…`) are another architecture.
fn assert_audio_adapter_refused(dir: &Path, opened: &OpenedWeights) {
    let path = dir.join("adapter_model.safetensors");
    let renamed: std::collections::HashMap<_, _> =
        candle_core::safetensors::load(&path, &Device::Cpu)
            .unwrap()
            .into_iter()
            .map(|(k, v)| {
                (
                    k.replace(
                        "base_model.model.model.",
                        "base_model.model.model.language_model.",
                    ),
                    v,
                )
            })
            .collect();
    candle_core::safetensors::save(&renamed, &path).unwrap();
    let vb = Weights::new(&opened.source, DType::F32);
    let err = load_with_adapter(&opened.config, &vb, dir, DType::F32, &Device::Cpu)
        .err()
        .unwrap();
    assert_eq!(err.code(), "E_MODEL_FORMAT");
    assert!(
        err.to_string()
            .contains("not a projection of a Qwen2 text decoder"),
        "{err}"
    );
}
