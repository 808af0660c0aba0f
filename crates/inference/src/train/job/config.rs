//! What a fine-tuning run is asked to do, and the checks that refuse a bad request before any
//! weights are read.

use std::path::PathBuf;

use serde::Serialize;

use super::best::BestBy;
use crate::error::{InferenceError, Result};
use crate::train::spec::{LoraSpec, Target};
use crate::types::DeviceRequest;

/// One fine-tuning run. `FinetuneConfig::new` fills the defaults; `validated` checks the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct FinetuneConfig {
    /// A `.gguf` file or an HF folder (config.json + safetensors).
    pub model: PathBuf,
    /// `tokenizer.json`; default: the one next to the weights.
    pub tokenizer: Option<PathBuf>,
    /// Chat JSONL: one `{"messages": [...]}` per line.
    pub data: PathBuf,
    /// Held-out chat JSONL; without one the run reports no eval loss.
    pub eval_data: Option<PathBuf>,
    pub output_dir: PathBuf,
    /// Written into `adapter_config.json` (`base_model_name_or_path`); default: the model path.
    pub base_model_name: Option<String>,
    pub lora: LoraSpec,
    pub epochs: usize,
    /// Peak learning rate (linear warm-up, then linear decay to 0 at the last step).
    pub lr: f64,
    pub weight_decay: f64,
    pub batch_size: usize,
    pub grad_accum: usize,
    /// Examples are cut to this many tokens.
    pub max_seq_len: usize,
    pub warmup_steps: usize,
    /// Global gradient-norm clip; `None` = off.
    pub clip: Option<f64>,
    /// Stop after this many optimizer steps (the schedule decays to 0 there).
    pub max_steps: Option<usize>,
    /// Held-out loss every this many steps (0 = only before the first and after the last).
    pub eval_every: usize,
    /// Checkpoint every this many steps (0 = only at the end and on cancel).
    pub checkpoint_every: usize,
    /// Which evaluated step `best/` keeps.
    pub best_by: BestBy,
    /// Seeds the adapter init, the shuffle and the dropout masks.
    pub seed: u64,
    /// Continue from `output_dir/checkpoint` (a fresh start when there is none yet).
    pub resume: bool,
    pub device: DeviceRequest,
}

impl FinetuneConfig {
    pub fn new(model: PathBuf, data: PathBuf, output_dir: PathBuf) -> Self {
        Self {
            model,
            tokenizer: None,
            data,
            eval_data: None,
            output_dir,
            base_model_name: None,
            lora: LoraSpec::default(),
            epochs: 1,
            lr: 2e-4,
            weight_decay: 0.0,
            batch_size: 4,
            grad_accum: 1,
            max_seq_len: 1024,
            warmup_steps: 0,
            clip: Some(1.0),
            max_steps: None,
            eval_every: 50,
            checkpoint_every: 50,
            best_by: BestBy::ExactMatch,
            seed: 0,
            resume: false,
            device: DeviceRequest::Cpu,
        }
    }

    /// Refuses rank 0, no or unknown targets, lr <= 0, epochs 0, max_seq_len 0 and other
    /// out-of-range numbers with `E_BAD_INPUT`, naming the option.
    pub fn validated(mut self) -> Result<Self> {
        self.lora.seed = self.seed;
        self.lora = self.lora.validated()?;
        positive("lr", self.lr)?;
        at_least_one("epochs", self.epochs)?;
        at_least_one("batch_size", self.batch_size)?;
        at_least_one("grad_accum", self.grad_accum)?;
        at_least_one("max_seq_len", self.max_seq_len)?;
        if let Some(steps) = self.max_steps {
            at_least_one("max_steps", steps)?;
        }
        if let Some(clip) = self.clip {
            positive("clip", clip)?;
        }
        if !self.weight_decay.is_finite() || self.weight_decay < 0.0 {
            return Err(bad(format!(
                "weight_decay must be >= 0 (got {})",
                self.weight_decay
            )));
        }
        Ok(self)
    }

    /// The options that shape the trained weights: a resume must repeat them exactly.
    pub(crate) fn fingerprint(&self, examples: usize) -> Fingerprint {
        Fingerprint {
            examples,
            r: self.lora.r,
            alpha: self.lora.alpha,
            dropout: self.lora.dropout,
            use_rslora: self.lora.use_rslora,
            targets: self
                .lora
                .targets
                .iter()
                .map(|t| t.name().to_string())
                .collect(),
            epochs: self.epochs,
            lr: self.lr,
            weight_decay: self.weight_decay,
            batch_size: self.batch_size,
            grad_accum: self.grad_accum,
            max_seq_len: self.max_seq_len,
            warmup_steps: self.warmup_steps,
            clip: self.clip,
            max_steps: self.max_steps,
            seed: self.seed,
        }
    }
}

/// See `FinetuneConfig::fingerprint`; stored in the checkpoint's `job_state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct Fingerprint {
    examples: usize,
    r: usize,
    #[serde(with = "super::exact")]
    alpha: f64,
    #[serde(with = "super::exact")]
    dropout: f64,
    use_rslora: bool,
    targets: Vec<String>,
    epochs: usize,
    #[serde(with = "super::exact")]
    lr: f64,
    #[serde(with = "super::exact")]
    weight_decay: f64,
    batch_size: usize,
    grad_accum: usize,
    max_seq_len: usize,
    warmup_steps: usize,
    #[serde(with = "super::exact::option")]
    clip: Option<f64>,
    max_steps: Option<usize>,
    seed: u64,
}

impl Fingerprint {
    /// The option names whose values differ between two fingerprints.
    pub(crate) fn differences(&self, other: &Self) -> Vec<String> {
        let (a, b) = (json_fields(self), json_fields(other));
        a.iter()
            .filter(|(key, value)| b.get(*key) != Some(value))
            .map(|(key, value)| {
                let was = b.get(key).map_or("-".to_string(), plain);
                format!("{key} {} (checkpoint: {was})", plain(value))
            })
            .collect()
    }
}

/// A JSON value as a user typed it (strings without quotes).
fn plain(value: &serde_json::Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

fn json_fields(f: &Fingerprint) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(f) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// Targets from names: PEFT's (`q_proj`) or short (`q`, `gate`); `all` = every projection.
pub fn parse_targets(names: &[String]) -> Result<Vec<Target>> {
    let mut targets = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        if name == "all" {
            targets.extend(Target::ALL);
            continue;
        }
        let full = if name.ends_with("_proj") {
            name.to_string()
        } else {
            format!("{name}_proj")
        };
        targets.push(Target::from_name(&full).map_err(|_| {
            bad(format!(
                "unknown LoRA target '{name}' (use q, k, v, o, gate, up, down or all)"
            ))
        })?);
    }
    if targets.is_empty() {
        return Err(bad("LoRA needs at least one target"));
    }
    Ok(targets)
}

fn positive(name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(bad(format!("{name} must be a number > 0 (got {value})")))
    }
}

fn at_least_one(name: &str, value: usize) -> Result<()> {
    if value >= 1 {
        Ok(())
    } else {
        Err(bad(format!("{name} must be at least 1 (got 0)")))
    }
}

fn bad(msg: impl std::fmt::Display) -> InferenceError {
    InferenceError::bad_input(msg)
}
