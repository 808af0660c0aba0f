//! Everything a run needs before its first step: the device, the base model and tokenizer, the
//! tokenized data, and either fresh adapters or the ones of the checkpoint being resumed.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};

use super::config::FinetuneConfig;
use super::dataset::load_examples;
use super::state::JobState;
use crate::error::{InferenceError, Result};
use crate::loader::{guarded, open_weights, OpenedWeights};
use crate::text_model::make_device;
use crate::tokenizer::TextTokenizer;
use crate::train::checkpoint::{existing_checkpoint, load_checkpoint};
use crate::train::data::TokenizedExample;
use crate::train::model::TrainModel;
use crate::train::optim::AdamWConfig;
use crate::train::schedule::BatchPlan;
use crate::train::trainer::{Trainer, TrainerConfig};
use crate::weights::Weights;

/// Training runs in f32: the moments and small LoRA updates need its precision, and a
/// quantized base is dequantized to it anyway.
pub(crate) const TRAIN_DTYPE: DType = DType::F32;

pub(crate) struct Data {
    pub train: Vec<TokenizedExample>,
    pub eval: Vec<TokenizedExample>,
    pub pad_id: u32,
}

pub(crate) struct Prepared {
    pub device: Device,
    pub data: Data,
    pub plan: BatchPlan,
    pub total_steps: usize,
    pub model: TrainModel,
    pub trainer: Trainer,
    pub state: JobState,
    pub resumed_from: Option<usize>,
}

pub(crate) fn checkpoint_dir(config: &FinetuneConfig) -> PathBuf {
    config.output_dir.join("checkpoint")
}

/// Where the adapter of the lowest eval loss is kept.
pub(crate) fn best_dir(config: &FinetuneConfig) -> PathBuf {
    config.output_dir.join("best")
}

pub(crate) fn prepare(config: &FinetuneConfig) -> Result<Prepared> {
    let device = make_device(config.device)?;
    let opened = open_weights(&config.model, &device, TRAIN_DTYPE)?;
    let tokenizer = tokenizer_for(config, &opened)?;
    let max_len = config
        .max_seq_len
        .min(opened.config.max_position_embeddings);
    let train = load_examples(&config.data, &tokenizer, max_len)?;
    let eval = match &config.eval_data {
        Some(path) => load_examples(path, &tokenizer, max_len)?,
        None => Vec::new(),
    };
    let plan = BatchPlan {
        examples: train.len(),
        batch_size: config.batch_size,
        grad_accum: config.grad_accum,
        epochs: config.epochs,
        seed: config.seed,
    }
    .validated()?;
    let total_steps = config
        .max_steps
        .map_or(plan.total_steps(), |m| m.min(plan.total_steps()));
    let trainer_config = TrainerConfig {
        adamw: AdamWConfig {
            lr: config.lr,
            weight_decay: config.weight_decay,
            ..AdamWConfig::default()
        },
        warmup_steps: config.warmup_steps,
        total_steps: Some(total_steps),
        max_grad_norm: config.clip,
    };
    let fingerprint = config.fingerprint(train.len());
    let vb = Weights::new(&opened.source, TRAIN_DTYPE);
    let ckpt = checkpoint_dir(config);
    let (model, trainer, state, resumed_from) = match existing_checkpoint(&ckpt) {
        Ok(found) => {
            refuse_unasked_resume(config, &ckpt)?;
            let mut state = JobState::read(&found, &fingerprint)?;
            let (model, trainer) = guarded("checkpoint", || {
                load_checkpoint(
                    &ckpt,
                    &opened.config,
                    &vb,
                    &trainer_config,
                    TRAIN_DTYPE,
                    &device,
                )
            })?;
            let step = trainer.steps_taken();
            state.truncate_to(step);
            (model, trainer, state, Some(step))
        }
        Err(_) => {
            let model = guarded("weights", || {
                TrainModel::new(
                    &opened.config,
                    &vb,
                    config.lora.clone(),
                    TRAIN_DTYPE,
                    &device,
                )
            })?;
            let trainer = Trainer::new(&model, &trainer_config)?;
            (model, trainer, JobState::fresh(fingerprint), None)
        }
    };
    Ok(Prepared {
        device,
        data: Data {
            train,
            eval,
            pad_id: tokenizer.pad_id(),
        },
        plan,
        total_steps,
        model,
        trainer,
        state,
        resumed_from,
    })
}

/// A run without `resume` never overwrites another run's checkpoint.
fn refuse_unasked_resume(config: &FinetuneConfig, ckpt: &Path) -> Result<()> {
    if config.resume {
        return Ok(());
    }
    Err(InferenceError::bad_input(format!(
        "{} holds a checkpoint of an earlier run; resume it (--resume) or choose another output folder",
        ckpt.display()
    )))
}

fn tokenizer_for(config: &FinetuneConfig, opened: &OpenedWeights) -> Result<TextTokenizer> {
    let path = config
        .tokenizer
        .clone()
        .or(opened.tokenizer_beside.clone())
        .ok_or_else(|| {
            InferenceError::Tokenizer(format!(
                "no tokenizer.json next to {}; pass a tokenizer",
                config.model.display()
            ))
        })?;
    let tokenizer = TextTokenizer::from_file(&path)?;
    if tokenizer.vocab_size() > opened.config.vocab_size {
        return Err(InferenceError::Tokenizer(format!(
            "tokenizer has {} tokens but the model only {}",
            tokenizer.vocab_size(),
            opened.config.vocab_size
        )));
    }
    Ok(tokenizer)
}
