//! The fine-tuning job end to end on the tiny fixture model: outputs, a falling loss, resume
//! after a cancel equal to an uninterrupted run, and coded errors for bad configs and data.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Device;
use opt_native_inference::train::job::{parse_targets, FinetuneConfig, Progress};
use opt_native_inference::train::{run_finetune, BestBy, Target, TrainSummary};
use opt_native_inference::InferenceError;

const CHATS: [(&str, &str); 4] = [
    ("2+2?", "4"),
    ("capital of France?", "Paris"),
    ("say hi", "hi!"),
    ("color of the sky?", "blue"),
];

fn chat_line(user: &str, answer: &str) -> String {
    serde_json::json!({"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": user},
        {"role": "assistant", "content": answer},
    ]})
    .to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("finetune-job-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_data(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn tiny_data(dir: &Path) -> PathBuf {
    let lines: Vec<String> = CHATS.iter().map(|(u, a)| chat_line(u, a)).collect();
    write_data(dir, "data.jsonl", &lines)
}

fn config(dir: &Path, out: &str) -> FinetuneConfig {
    let data = tiny_data(dir);
    let mut config =
        FinetuneConfig::new(common::fixture("tiny-qwen2"), data.clone(), dir.join(out));
    config.eval_data = Some(data);
    config.lora.r = 4;
    config.lora.alpha = 8.0;
    config.lora.dropout = 0.1;
    config.lr = 1e-2;
    config.epochs = 6;
    config.batch_size = 2;
    config.grad_accum = 1;
    config.warmup_steps = 2;
    config.eval_every = 4;
    config.checkpoint_every = 4;
    config.seed = 11;
    config
}

fn run(config: FinetuneConfig) -> Result<TrainSummary, InferenceError> {
    run_finetune(config, |_| {}, &AtomicBool::new(false))
}

fn adapter_tensors(dir: &Path) -> Vec<(String, Vec<f32>)> {
    let tensors =
        candle_core::safetensors::load(dir.join("adapter_model.safetensors"), &Device::Cpu)
            .unwrap();
    let mut out: Vec<(String, Vec<f32>)> = tensors
        .into_iter()
        .map(|(k, t)| (k, t.flatten_all().unwrap().to_vec1().unwrap()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn csv_rows(dir: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join("loss_curve.csv"))
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn a_repeated_tiny_dataset_is_learned_and_every_output_is_written() {
    let dir = temp_dir("learn");
    let mut seen: Vec<Progress> = Vec::new();
    let summary = run_finetune(
        config(&dir, "out"),
        |p| seen.push(p.clone()),
        &AtomicBool::new(false),
    )
    .unwrap();
    let out = dir.join("out");
    // 4 examples, batch 2: 2 steps an epoch, 6 epochs.
    assert_eq!(summary.steps, 12);
    assert_eq!(seen.len(), 12);
    assert_eq!(seen.last().unwrap().step, 12);
    assert!(seen
        .iter()
        .all(|p| p.total_steps == 12 && p.tokens_per_second > 0.0));
    assert_eq!(seen.iter().filter(|p| p.checkpointed).count(), 3); // steps 4, 8, 12
    let initial = summary.initial_eval_loss.unwrap();
    let last = summary.final_eval_loss.unwrap();
    assert!(last < 0.5 * initial, "eval loss {initial} -> {last}");
    assert!(summary.final_train_loss < summary.first_train_loss);
    assert_eq!(summary.best_eval_step, Some(12));
    assert!(summary.tokens > summary.loss_tokens && summary.loss_tokens > 0);
    assert!(summary.peak_rss_bytes.unwrap() > 1 << 20);

    let rows = csv_rows(&out);
    assert_eq!(
        rows[0],
        [
            "step",
            "train_loss",
            "eval_loss",
            "eval_exact_match",
            "lr",
            "tokens"
        ]
    );
    assert_eq!(rows.len(), 1 + 13, "a step-0 eval row and one row a step");
    let evals: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[2].as_str())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(evals.len(), 4); // steps 0, 4, 8, 12
    let last_tokens: u64 = rows.last().unwrap()[5].parse().unwrap();
    assert_eq!(last_tokens, summary.tokens);

    let svg = std::fs::read_to_string(out.join("loss_curve.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.matches("<polyline").count() == 2);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("train_summary.json")).unwrap()).unwrap();
    assert_eq!(json["steps"], 12);
    assert_eq!(json["finalEvalLoss"].as_f64(), summary.final_eval_loss);
    let adapter: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("adapter_config.json")).unwrap()).unwrap();
    assert_eq!(adapter["r"], 4);
    assert_eq!(adapter["peft_type"], "LORA");
    // 2 layers × 7 targets × (A, B)
    assert_eq!(adapter_tensors(&out).len(), 28);
    // The best eval was the last step's, so `best/` is the final adapter.
    assert_eq!(
        json["bestAdapterDir"],
        out.join("best").display().to_string()
    );
    assert_eq!(adapter_tensors(&out.join("best")), adapter_tensors(&out));
}

/// Held-out chats of which half agree with the training set and half swap its answers: the eval
/// loss falls while the agreeing answers are learned, then rises as the swapped ones are ruled out.
fn half_contradicted_eval_data(dir: &Path) -> PathBuf {
    let lines = vec![
        chat_line(CHATS[0].0, CHATS[0].1),
        chat_line(CHATS[1].0, CHATS[1].1),
        chat_line(CHATS[2].0, CHATS[3].1),
        chat_line(CHATS[3].0, CHATS[2].1),
    ];
    write_data(dir, "half-contradicted.jsonl", &lines)
}

#[test]
fn the_adapter_of_the_lowest_eval_loss_is_kept_in_best() {
    let dir = temp_dir("best");
    let overfit = |out: &str| {
        let mut cfg = config(&dir, out);
        cfg.eval_data = Some(half_contradicted_eval_data(&dir));
        cfg.eval_every = 1;
        cfg.epochs = 25;
        cfg.best_by = BestBy::Loss;
        cfg
    };
    let whole = run(overfit("whole")).unwrap();
    let best = whole.best_eval_step.unwrap();
    assert!(
        best > 0 && best < whole.steps,
        "the eval loss must turn: best at step {best} of {}",
        whole.steps
    );
    assert!(whole.best_eval_loss.unwrap() < whole.final_eval_loss.unwrap());

    // The same run stopped at the best step checkpoints the adapter `best/` must hold.
    let cancel = AtomicBool::new(false);
    let stopped = run_finetune(
        overfit("stopped"),
        |p| {
            if p.step == best {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert_eq!(stopped.unwrap_err().code(), "E_ABORTED");
    let kept = adapter_tensors(&dir.join("whole/best"));
    assert_eq!(kept, adapter_tensors(&dir.join("stopped/checkpoint")));
    assert_ne!(kept, adapter_tensors(&dir.join("whole")));
    let marker = best_marker(&dir.join("whole"));
    assert_eq!(marker["step"], best);
    assert_eq!(marker["bestBy"], "loss");
    let loss = marker["evalLoss"].as_f64().unwrap();
    assert!((loss - whole.best_eval_loss.unwrap()).abs() < 1e-12);
}

fn best_marker(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("best/best_eval.json")).unwrap()).unwrap()
}

/// `--best-by exact-match` keeps the step of the highest exact match in `loss_curve.csv`, the
/// lower loss breaking ties, and reports that step's numbers.
#[test]
fn best_by_exact_match_keeps_the_step_the_curve_says() {
    let dir = temp_dir("best-by");
    let mut cfg = config(&dir, "out");
    cfg.eval_data = Some(half_contradicted_eval_data(&dir));
    cfg.eval_every = 1;
    cfg.epochs = 10;
    assert_eq!(cfg.best_by, BestBy::ExactMatch, "the default");
    let summary = run(cfg).unwrap();
    let out = dir.join("out");
    let rows = csv_rows(&out);
    let evals: Vec<(usize, f64, f64)> = rows[1..]
        .iter()
        .filter(|r| !r[2].is_empty())
        .map(|r| {
            (
                r[0].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(evals.len(), 21, "steps 0 to 20");
    for (_, _, exact) in &evals {
        assert!(
            [0.0, 0.25, 0.5, 0.75, 1.0].contains(exact),
            "4 eval chats: {exact}"
        );
    }
    let top = evals.iter().map(|e| e.2).fold(0.0, f64::max);
    let (step, loss, exact) = evals
        .iter()
        .filter(|e| e.2 == top)
        .fold(None, |best: Option<(usize, f64, f64)>, e| match best {
            Some(b) if b.1 <= e.1 => Some(b),
            _ => Some(*e),
        })
        .unwrap();
    assert_eq!(summary.best_eval_step, Some(step));
    assert_eq!(summary.best_eval_exact_match, Some(exact));
    assert_eq!(summary.best_eval_loss, Some(loss));
    assert_eq!(summary.initial_eval_exact_match, Some(evals[0].2));
    assert_eq!(summary.final_eval_exact_match, Some(evals[20].2));
    let marker = best_marker(&out);
    assert_eq!(
        (marker["step"].as_u64(), marker["bestBy"].as_str()),
        (Some(step as u64), Some("exact-match"))
    );
    assert_eq!(marker["evalExactMatch"].as_f64(), Some(exact));
    assert!(summary.best_adapter_dir.is_some());
}

#[test]
fn resume_after_a_cancel_equals_the_uninterrupted_run() {
    let dir = temp_dir("resume");
    let whole = run(config(&dir, "whole")).unwrap();

    let cancel = AtomicBool::new(false);
    let stopped = run_finetune(
        config(&dir, "split"),
        |p| {
            if p.step == 6 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert_eq!(stopped.unwrap_err().code(), "E_ABORTED");
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("split/checkpoint/trainer_state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state["step"], 6,
        "the cancel checkpointed the step it stopped at"
    );
    assert!(!dir.join("split/train_summary.json").exists());

    let mut again = config(&dir, "split");
    again.resume = true;
    let resumed = run(again).unwrap();
    assert_eq!(resumed.resumed_from_step, Some(6));
    assert_eq!(resumed.steps, whole.steps);
    assert_eq!(resumed.tokens, whole.tokens);
    assert_eq!(resumed.final_eval_loss, whole.final_eval_loss);
    assert_eq!(
        adapter_tensors(&dir.join("split")),
        adapter_tensors(&dir.join("whole")),
        "bit-identical adapters"
    );
    assert_eq!(csv_rows(&dir.join("split")), csv_rows(&dir.join("whole")));
}

#[test]
fn a_checkpoint_is_neither_overwritten_nor_resumed_with_other_options() {
    let dir = temp_dir("guard");
    let mut first = config(&dir, "out");
    first.max_steps = Some(4);
    run(first.clone()).unwrap();
    let err = run(first.clone()).unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
    assert!(err.to_string().contains("--resume"), "{err}");
    let mut changed = first;
    changed.resume = true;
    changed.lr = 5e-3;
    let err = run(changed).unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
    assert!(
        err.to_string().contains("lr 0.005 (checkpoint: 0.01)"),
        "{err}"
    );
}

#[test]
fn a_quantized_gguf_base_trains_with_a_given_tokenizer() {
    let dir = temp_dir("gguf");
    let mut cfg = config(&dir, "out");
    cfg.model = common::fixture("tiny-qwen2.q8_0.gguf");
    cfg.tokenizer = Some(common::fixture("tiny-qwen2/tokenizer.json"));
    cfg.max_steps = Some(6);
    cfg.lora.targets = vec![Target::QProj, Target::VProj];
    let summary = run(cfg).unwrap();
    assert_eq!(summary.steps, 6);
    assert!(summary.final_eval_loss.unwrap() < summary.initial_eval_loss.unwrap());
    assert_eq!(adapter_tensors(&dir.join("out")).len(), 2 * 2 * 2);
}

/// One change to a good config.
type Edit = Box<dyn FnOnce(&mut FinetuneConfig)>;

fn error_of(dir: &Path, edit: impl FnOnce(&mut FinetuneConfig)) -> InferenceError {
    let mut cfg = config(dir, "out");
    cfg.eval_data = None;
    edit(&mut cfg);
    run(cfg).unwrap_err()
}

#[test]
fn bad_configs_and_data_get_coded_errors() {
    let dir = temp_dir("errors");
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("rank 0", Box::new(|c| c.lora.r = 0), "rank"),
        ("lr 0", Box::new(|c| c.lr = 0.0), "lr must be"),
        ("lr < 0", Box::new(|c| c.lr = -1.0), "lr must be"),
        ("epochs 0", Box::new(|c| c.epochs = 0), "epochs must be"),
        (
            "max_seq_len 0",
            Box::new(|c| c.max_seq_len = 0),
            "max_seq_len must be",
        ),
        ("no targets", Box::new(|c| c.lora.targets.clear()), "target"),
    ];
    for (what, edit, says) in cases {
        let err = error_of(&dir, edit);
        assert_eq!(err.code(), "E_BAD_INPUT", "{what}: {err}");
        assert!(err.to_string().contains(says), "{what}: {err}");
    }
    let err = parse_targets(&["q".into(), "attn".into()]).unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
    assert!(
        err.to_string().contains("unknown LoRA target 'attn'"),
        "{err}"
    );
    assert_eq!(
        parse_targets(&["q_proj".into(), "down".into()]).unwrap(),
        vec![Target::QProj, Target::DownProj]
    );

    let no_answer = serde_json::json!({"messages": [{"role": "user", "content": "hi"}]});
    let lines = [chat_line("a", "b"), String::new(), no_answer.to_string()];
    let data = write_data(&dir, "bad.jsonl", &lines);
    let err = error_of(&dir, |c| c.data = data);
    assert_eq!(err.code(), "E_BAD_INPUT");
    assert!(
        err.to_string()
            .contains("bad.jsonl: dataset line 3: no assistant turn"),
        "{err}"
    );

    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "\n\n").unwrap();
    let err = error_of(&dir, |c| c.data = empty);
    assert_eq!(err.code(), "E_BAD_INPUT");
    assert!(err.to_string().contains("no examples"), "{err}");

    let err = error_of(&dir, |c| c.data = dir.join("missing.jsonl"));
    assert_eq!(err.code(), "E_BAD_INPUT");
    assert!(
        !dir.join("out").exists(),
        "a refused job leaves no output folder behind"
    );

    let err = error_of(&dir, |c| c.model = common::fixture("tiny-qwen2-audio"));
    assert_eq!(err.code(), "E_MODEL_FORMAT", "{err}");
}
