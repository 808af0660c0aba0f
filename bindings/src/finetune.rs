//! `finetune()`: the core's LoRA fine-tuning job as an AsyncTask on the libuv pool, with an
//! AbortSignal (stops at a step boundary after a checkpoint) and a progress callback.

use std::path::PathBuf;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use opt_native_inference as core;
use opt_native_inference::numbers::{checked_seed, optional_u32};
use opt_native_inference::train::job::{
    parse_targets, BestBy, FinetuneConfig, Progress, TrainSummary,
};

use crate::model::{cancel_flag, to_device, to_napi_error, CancelFlag, ModelDevice};
use crate::panic::guard_core;

/// Options of one run; omitted fields take the core's defaults (docs/finetune.md).
#[napi(object)]
pub struct NativeFinetuneOptions {
    /// A `.gguf` file or an HF folder.
    pub model: String,
    pub tokenizer_path: Option<String>,
    /// Chat JSONL (`{"messages": [...]}` a line).
    pub data: String,
    pub eval_data: Option<String>,
    pub output_dir: String,
    /// `base_model_name_or_path` in adapter_config.json (default: the model path).
    pub base_model_name: Option<String>,
    pub epochs: Option<f64>,
    pub lr: Option<f64>,
    pub weight_decay: Option<f64>,
    pub rank: Option<f64>,
    pub alpha: Option<f64>,
    pub dropout: Option<f64>,
    pub rslora: Option<bool>,
    /// q, k, v, o, gate, up, down (or q_proj …, or all).
    pub targets: Option<Vec<String>>,
    pub batch_size: Option<f64>,
    pub grad_accum: Option<f64>,
    pub max_seq_len: Option<f64>,
    pub warmup_steps: Option<f64>,
    /// Global gradient-norm clip; 0 turns clipping off.
    pub clip: Option<f64>,
    pub max_steps: Option<f64>,
    pub eval_every: Option<f64>,
    pub checkpoint_every: Option<f64>,
    /// Which evaluated step `best/` keeps: `exact-match` (most eval examples reproduced by greedy
    /// decoding, lower loss breaking ties; the default) or `loss` (lowest eval loss).
    pub best_by: Option<String>,
    pub seed: Option<f64>,
    pub resume: Option<bool>,
    pub device: Option<ModelDevice>,
    pub device_index: Option<f64>,
}

/// Sent after every optimizer step.
#[napi(object)]
#[derive(Clone)]
pub struct NativeFinetuneProgress {
    pub step: u32,
    pub total_steps: u32,
    pub epoch: u32,
    pub train_loss: f64,
    pub eval_loss: Option<f64>,
    /// The share of eval examples greedy decoding reproduces; set with `evalLoss`.
    pub eval_exact_match: Option<f64>,
    pub lr: f64,
    pub grad_norm: f64,
    pub tokens: f64,
    pub tokens_per_second: f64,
    pub elapsed_seconds: f64,
    pub eta_seconds: f64,
    pub checkpointed: bool,
}

/// What `train_summary.json` holds.
#[napi(object)]
pub struct NativeTrainSummary {
    pub steps: u32,
    pub epochs: u32,
    pub examples: u32,
    pub eval_examples: u32,
    pub tokens: f64,
    pub loss_tokens: f64,
    pub first_train_loss: f64,
    pub final_train_loss: f64,
    pub best_train_loss: f64,
    pub initial_eval_loss: Option<f64>,
    pub final_eval_loss: Option<f64>,
    /// The eval loss and step of the adapter in `best/`, chosen by `bestBy`.
    pub best_eval_loss: Option<f64>,
    pub best_eval_step: Option<u32>,
    /// The share of eval examples greedy decoding reproduces: before, after, at `bestEvalStep`.
    pub initial_eval_exact_match: Option<f64>,
    pub final_eval_exact_match: Option<f64>,
    pub best_eval_exact_match: Option<f64>,
    /// `loss` or `exact-match`.
    pub best_by: String,
    /// The adapter of `bestEvalStep` (`outputDir/best`), kept when eval data were given.
    pub best_adapter_dir: Option<String>,
    pub tokens_per_second: f64,
    pub wall_seconds: f64,
    pub resumed_from_step: Option<u32>,
    pub peak_rss_bytes: Option<f64>,
    pub output_dir: String,
}

pub type ProgressCallback =
    ThreadsafeFunction<NativeFinetuneProgress, (), NativeFinetuneProgress, Status, false>;

/// Trains a LoRA adapter into `options.outputDir`. Rejects with the core's codes
/// (`[E_BAD_INPUT]`, `[E_MODEL_FORMAT]` …) and with `[E_ABORTED]` once `signal` has stopped the
/// run (its checkpoint kept for `resume: true`).
#[napi(
    ts_args_type = "options: NativeFinetuneOptions, onProgress?: (progress: NativeFinetuneProgress) => void, signal?: AbortSignal",
    ts_return_type = "Promise<NativeTrainSummary>"
)]
pub fn finetune(
    options: NativeFinetuneOptions,
    on_progress: Option<ProgressCallback>,
    signal: Option<AbortSignal>,
) -> Result<AsyncTask<FinetuneTask>> {
    let task = FinetuneTask {
        config: Some(to_config(options)?),
        cancel: cancel_flag(signal.as_ref()),
        on_progress,
    };
    Ok(AsyncTask::with_optional_signal(task, signal))
}

fn to_config(o: NativeFinetuneOptions) -> Result<FinetuneConfig> {
    let mut c = FinetuneConfig::new(o.model.into(), o.data.into(), o.output_dir.into());
    c.tokenizer = o.tokenizer_path.map(PathBuf::from);
    c.eval_data = o.eval_data.map(PathBuf::from);
    c.base_model_name = o.base_model_name;
    let int = |name: &str, v: Option<f64>| {
        optional_u32(name, v, 0)
            .map(|n| n.map(|n| n as usize))
            .map_err(to_napi_error)
    };
    // A given count replaces the config's default; an absent one keeps it.
    let set = |field: &mut usize, name: &str, v: Option<f64>| -> Result<()> {
        if let Some(n) = int(name, v)? {
            *field = n;
        }
        Ok(())
    };
    set(&mut c.epochs, "epochs", o.epochs)?;
    set(&mut c.lora.r, "rank", o.rank)?;
    set(&mut c.batch_size, "batchSize", o.batch_size)?;
    set(&mut c.grad_accum, "gradAccum", o.grad_accum)?;
    set(&mut c.max_seq_len, "maxSeqLen", o.max_seq_len)?;
    set(&mut c.warmup_steps, "warmupSteps", o.warmup_steps)?;
    set(&mut c.eval_every, "evalEvery", o.eval_every)?;
    set(
        &mut c.checkpoint_every,
        "checkpointEvery",
        o.checkpoint_every,
    )?;
    c.max_steps = int("maxSteps", o.max_steps)?.or(c.max_steps);
    c.lr = o.lr.unwrap_or(c.lr);
    c.weight_decay = o.weight_decay.unwrap_or(c.weight_decay);
    c.lora.alpha = o.alpha.unwrap_or(c.lora.alpha);
    c.lora.dropout = o.dropout.unwrap_or(c.lora.dropout);
    c.lora.use_rslora = o.rslora.unwrap_or(false);
    if let Some(targets) = o.targets {
        c.lora.targets = parse_targets(&targets).map_err(to_napi_error)?;
    }
    if let Some(clip) = o.clip {
        c.clip = (clip != 0.0).then_some(clip);
    }
    if let Some(seed) = o.seed {
        c.seed = checked_seed(seed).map_err(to_napi_error)?;
    }
    if let Some(name) = o.best_by {
        c.best_by = BestBy::parse(&name).map_err(to_napi_error)?;
    }
    c.resume = o.resume.unwrap_or(false);
    c.device = to_device(o.device.as_ref(), o.device_index)?;
    Ok(c)
}

pub struct FinetuneTask {
    config: Option<FinetuneConfig>,
    cancel: CancelFlag,
    on_progress: Option<ProgressCallback>,
}

#[napi]
impl Task for FinetuneTask {
    type Output = TrainSummary;
    type JsValue = NativeTrainSummary;

    fn compute(&mut self) -> Result<Self::Output> {
        let config = self
            .config
            .take()
            .ok_or_else(|| Error::new(Status::GenericFailure, "[E_INTERNAL] run twice"))?;
        let on_progress = self.on_progress.as_ref();
        let send = |p: &Progress| {
            if let Some(callback) = on_progress {
                callback.call(progress_to_js(p), ThreadsafeFunctionCallMode::NonBlocking);
            }
        };
        guard_core(|| core::train::run_finetune(config, send, &self.cancel))
    }

    fn resolve(&mut self, _env: Env, s: Self::Output) -> Result<Self::JsValue> {
        Ok(NativeTrainSummary {
            steps: s.steps as u32,
            epochs: s.epochs as u32,
            examples: s.examples as u32,
            eval_examples: s.eval_examples as u32,
            tokens: s.tokens as f64,
            loss_tokens: s.loss_tokens as f64,
            first_train_loss: s.first_train_loss,
            final_train_loss: s.final_train_loss,
            best_train_loss: s.best_train_loss,
            initial_eval_loss: s.initial_eval_loss,
            final_eval_loss: s.final_eval_loss,
            best_eval_loss: s.best_eval_loss,
            best_eval_step: s.best_eval_step.map(|v| v as u32),
            initial_eval_exact_match: s.initial_eval_exact_match,
            final_eval_exact_match: s.final_eval_exact_match,
            best_eval_exact_match: s.best_eval_exact_match,
            best_by: s.best_by.name().to_string(),
            best_adapter_dir: s.best_adapter_dir,
            tokens_per_second: s.tokens_per_second,
            wall_seconds: s.wall_seconds,
            resumed_from_step: s.resumed_from_step.map(|v| v as u32),
            peak_rss_bytes: s.peak_rss_bytes.map(|v| v as f64),
            output_dir: s.output_dir,
        })
    }
}

fn progress_to_js(p: &Progress) -> NativeFinetuneProgress {
    NativeFinetuneProgress {
        step: p.step as u32,
        total_steps: p.total_steps as u32,
        epoch: p.epoch as u32,
        train_loss: p.train_loss,
        eval_loss: p.eval_loss,
        eval_exact_match: p.eval_exact_match,
        lr: p.lr,
        grad_norm: p.grad_norm,
        tokens: p.tokens as f64,
        tokens_per_second: p.tokens_per_second,
        elapsed_seconds: p.elapsed_seconds,
        eta_seconds: p.eta_seconds,
        checkpointed: p.checkpointed,
    }
}
