//! One optimizer step over several micro-batches: gradients of the token-mean loss accumulated
//! across them (so two micro-batches of one example equal one batch of two), clipped by global
//! norm, then an AdamW update at the scheduled learning rate.

use candle_core::{DType, Tensor};

use super::data::TokenBatch;
use super::lora_linear::Dropout;
use super::model::TrainModel;
use super::optim::{clip_global_norm, global_norm, AdamW, AdamWConfig, LrSchedule};
use crate::error::{InferenceError, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct TrainerConfig {
    pub adamw: AdamWConfig,
    pub warmup_steps: usize,
    /// Decay the learning rate linearly to 0 at this step; constant after warm-up without one.
    pub total_steps: Option<usize>,
    /// Clip the global gradient norm to this (torch's `max_grad_norm`; `None` = no clipping).
    pub max_grad_norm: Option<f64>,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        Self {
            adamw: AdamWConfig::default(),
            warmup_steps: 0,
            total_steps: None,
            max_grad_norm: Some(1.0),
        }
    }
}

/// What one step did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    pub step: usize,
    /// Mean loss per learned token over the step's micro-batches, before the update.
    pub loss: f64,
    pub grad_norm: f64,
    pub lr: f64,
    pub loss_tokens: usize,
}

pub struct Trainer {
    pub optimizer: AdamW,
    schedule: LrSchedule,
    max_grad_norm: Option<f64>,
}

impl Trainer {
    pub fn new(model: &TrainModel, config: &TrainerConfig) -> Result<Self> {
        Ok(Self {
            optimizer: AdamW::new(model.vars(), config.adamw.clone())?,
            schedule: LrSchedule {
                peak: config.adamw.lr,
                warmup_steps: config.warmup_steps,
                total_steps: config.total_steps,
            },
            max_grad_norm: config.max_grad_norm,
        })
    }

    /// Optimizer steps taken (the resume point).
    pub fn steps_taken(&self) -> usize {
        self.optimizer.steps_taken()
    }

    /// Accumulates the gradients of `micro_batches` and updates the adapters once.
    pub fn step(&mut self, model: &TrainModel, micro_batches: &[TokenBatch]) -> Result<StepReport> {
        let step = self.steps_taken();
        let (loss, mut grads, tokens) = accumulated_gradients(model, micro_batches, step)?;
        let grad_norm = match self.max_grad_norm {
            Some(max) => clip_global_norm(&mut grads, max)?,
            None => global_norm(&grads)?,
        };
        if !grad_norm.is_finite() {
            return Err(InferenceError::Runtime(format!(
                "step {step}: gradient norm {grad_norm} (loss {loss})"
            )));
        }
        let lr = self.schedule.at(step);
        self.optimizer.step(&grads, lr)?;
        Ok(StepReport {
            step: step + 1,
            loss,
            grad_norm,
            lr,
            loss_tokens: tokens,
        })
    }
}

/// Gradients of `Σ nll / total learned tokens` w.r.t. `model.vars()`, summed over the
/// micro-batches; a var the loss does not reach gets zeros. Returns (mean loss, grads, tokens).
pub fn accumulated_gradients(
    model: &TrainModel,
    micro_batches: &[TokenBatch],
    step: usize,
) -> Result<(f64, Vec<Tensor>, usize)> {
    let tokens: usize = micro_batches.iter().map(|b| b.loss_tokens).sum();
    if tokens == 0 {
        return Err(InferenceError::bad_input("a step without learned tokens"));
    }
    let vars = model.vars();
    let mut sums: Vec<Tensor> = vars
        .iter()
        .map(|v| v.as_tensor().zeros_like())
        .collect::<candle_core::Result<_>>()?;
    let mut loss_total = 0.0;
    let p = model.spec().dropout;
    for (index, batch) in micro_batches.iter().enumerate() {
        let dropout =
            (p > 0.0).then(|| Dropout::new(p, dropout_seed(model.spec().seed, step, index)));
        let loss = (model.loss_sum(batch, dropout.as_ref())? / tokens as f64)?;
        loss_total += loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        let grads = loss.backward()?;
        for (sum, var) in sums.iter_mut().zip(&vars) {
            if let Some(g) = grads.get(var.as_tensor()) {
                *sum = (&*sum + g)?;
            }
        }
    }
    Ok((loss_total, sums, tokens))
}

/// Dropout masks depend on (seed, step, micro-batch) only, so a resumed run draws the same ones.
fn dropout_seed(seed: u64, step: usize, micro_batch: usize) -> u64 {
    seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (micro_batch as u64).rotate_left(32)
}
