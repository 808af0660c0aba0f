//! The Qwen2 decoder for LoRA training: frozen base weights (plain tensors; quantized GGUF
//! matrices dequantized once at build, 4 bytes per weight), trainable `lora_A`/`lora_B` `Var`s,
//! and a loss that applies the LM head only at the positions that carry loss.

use candle_core::{DType, Device, Tensor, Var, D};
use rand::rngs::StdRng;
use rand::SeedableRng;

use super::data::TokenBatch;
use super::layer::{ForwardContext, TrainLayer};
use super::lora_linear::{init_factors, Dropout, LoraFactors, LoraLinear};
use super::ops;
use super::spec::{LoraSpec, Target};
use crate::config::DecoderConfig;
use crate::error::{InferenceError, Result};
use crate::mask::causal_mask;
use crate::qwen2::RotaryTables;
use crate::weights::{Embedding, Weights};

pub struct TrainModel {
    embed_tokens: Embedding,
    layers: Vec<TrainLayer>,
    norm: Tensor,    // (hidden)
    lm_head: Tensor, // (vocab, hidden)
    rope: RotaryTables,
    cfg: DecoderConfig,
    spec: LoraSpec,
    dtype: DType,
    device: Device,
}

/// One trainable factor pair, named the PEFT way without the `base_model.model.` prefix.
pub struct NamedFactors<'a> {
    pub module: String, // model.layers.{i}.self_attn.q_proj
    pub factors: &'a LoraFactors,
}

impl TrainModel {
    /// Builds the frozen base from `vb` (the root holding `model.*`) and fresh adapters: `lora_A`
    /// seeded kaiming-uniform, `lora_B` zeros.
    pub fn new(
        cfg: &DecoderConfig,
        vb: &Weights,
        spec: LoraSpec,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let spec = spec.validated()?;
        let mut model = Self::frozen(cfg, vb, spec, dtype, device)?;
        let mut rng = StdRng::seed_from_u64(model.spec.seed);
        let (r, scale) = (model.spec.r, model.spec.scale());
        for layer in 0..model.layers.len() {
            for target in model.spec.targets.clone() {
                let linear = model.layers[layer].projection_mut(target);
                let (a, b) = init_factors(linear.dims()?, r, &mut rng, dtype, device)?;
                linear.attach(LoraFactors { a, b, scale }, &target.module_path())?;
            }
        }
        Ok(model)
    }

    fn frozen(
        cfg: &DecoderConfig,
        vb: &Weights,
        spec: LoraSpec,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let model = vb.pp("model");
        let embed_tokens = model
            .pp("embed_tokens")
            .embedding(cfg.vocab_size, cfg.hidden_size)?;
        let layers = (0..cfg.num_layers)
            .map(|i| TrainLayer::new(cfg, &model.pp("layers").pp(i), dtype))
            .collect::<Result<Vec<_>>>()?;
        let head = if cfg.tie_word_embeddings {
            embed_tokens.as_linear()?
        } else {
            vb.pp("lm_head")
                .linear(cfg.hidden_size, cfg.vocab_size, false)?
        };
        let rope = RotaryTables::new(cfg, device)?;
        Ok(Self {
            norm: model
                .pp("norm")
                .vector("weight", cfg.hidden_size)?
                .to_dtype(dtype)?,
            lm_head: LoraLinear::frozen(head, dtype)?.weight().clone(),
            embed_tokens,
            layers,
            rope: RotaryTables {
                cos: rope.cos.to_dtype(dtype)?,
                sin: rope.sin.to_dtype(dtype)?,
            },
            cfg: cfg.clone(),
            spec,
            dtype,
            device: device.clone(),
        })
    }

    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    pub fn spec(&self) -> &LoraSpec {
        &self.spec
    }

    /// The seed of dropout masks on resume (the adapter itself comes from the checkpoint).
    pub(crate) fn set_seed(&mut self, seed: u64) {
        self.spec.seed = seed;
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Every adapter in a fixed order (layer, then `Target` order).
    pub fn factors(&self) -> Vec<NamedFactors<'_>> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            for &target in &self.spec.targets {
                if let Some(factors) = &layer.projection(target).adapter {
                    let module = format!("model.layers.{i}.{}", target.module_path());
                    out.push(NamedFactors { module, factors });
                }
            }
        }
        out
    }

    /// The trainable variables, `[A, B]` per adapter in `factors()` order.
    pub fn vars(&self) -> Vec<Var> {
        self.factors()
            .iter()
            .flat_map(|n| [n.factors.a.clone(), n.factors.b.clone()])
            .collect()
    }

    /// Replaces the adapter of one projection (shapes checked against the base weight).
    pub(crate) fn set_factors(
        &mut self,
        layer: usize,
        target: Target,
        factors: LoraFactors,
    ) -> Result<()> {
        let module = format!("model.layers.{layer}.{}", target.module_path());
        let slot = self.layers.get_mut(layer).ok_or_else(|| {
            InferenceError::format(format!("LoRA target {module}: the model has no such layer"))
        })?;
        slot.projection_mut(target).attach(factors, &module)
    }

    /// Final-normed hidden states `(b, seq, hidden)` of right-padded `ids` `(b, seq)`.
    pub fn forward_hidden(
        &self,
        ids: &Tensor,
        lengths: &[usize],
        dropout: Option<&Dropout>,
    ) -> Result<Tensor> {
        let (_, seq) = ids.dims2()?;
        if seq > self.cfg.max_position_embeddings {
            return Err(InferenceError::bad_input(format!(
                "{seq} tokens exceed the context length {}",
                self.cfg.max_position_embeddings
            )));
        }
        let mut xs = self.embed_tokens.forward(ids, self.dtype)?;
        let mask = padded_causal_mask(lengths, seq, self.dtype, &self.device)?;
        let ctx = ForwardContext {
            cos: &self.rope.cos.narrow(0, 0, seq)?,
            sin: &self.rope.sin.narrow(0, 0, seq)?,
            mask: &mask,
            dropout,
        };
        for layer in &self.layers {
            xs = layer.forward(&xs, &ctx)?;
        }
        ops::rms_norm(&xs, &self.norm, self.cfg.rms_norm_eps)
    }

    /// Logits `(…, vocab)` for hidden rows `(…, hidden)`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        let dims = hidden.dims().to_vec();
        let rows = hidden.reshape(((), self.cfg.hidden_size))?;
        let logits = ops::frozen_matmul(&rows, &self.lm_head)?;
        let mut shape = dims[..dims.len() - 1].to_vec();
        shape.push(self.cfg.vocab_size);
        Ok(logits.reshape(shape)?)
    }

    /// Summed negative log-likelihood of the batch's learned tokens (a scalar): the LM head runs
    /// on those `n` rows only, not on `b * seq`.
    pub fn loss_sum(&self, batch: &TokenBatch, dropout: Option<&Dropout>) -> Result<Tensor> {
        nll_sum(&self.learned_logits(batch, dropout)?, &batch.targets)
    }

    /// The held-out numbers of one batch, without dropout: its summed loss and which of its
    /// examples greedy decoding reproduces (every learned token the argmax of its position).
    pub fn eval_batch(&self, batch: &TokenBatch) -> Result<BatchEval> {
        let logits = self.learned_logits(batch, None)?.detach(); // (n, vocab)
        let loss_sum = nll_sum(&logits, &batch.targets)?.to_dtype(DType::F64)?;
        let greedy = logits.argmax(D::Minus1)?.to_vec1::<u32>()?;
        let targets = batch.targets.to_vec1::<u32>()?;
        let positions = batch.loss_rows.to_vec1::<u32>()?;
        let seq = batch.ids.dim(1)?;
        // Per example: None without learned tokens, else whether all of them were the argmax.
        let mut exact: Vec<Option<bool>> = vec![None; batch.lengths.len()];
        for ((position, predicted), target) in positions.iter().zip(&greedy).zip(&targets) {
            let example = &mut exact[*position as usize / seq];
            *example = Some(example.unwrap_or(true) && predicted == target);
        }
        Ok(BatchEval {
            loss_sum: loss_sum.to_scalar::<f64>()?,
            exact_matches: exact.iter().filter(|e| **e == Some(true)).count(),
            scored_examples: exact.iter().filter(|e| e.is_some()).count(),
        })
    }

    /// Logits `(n, vocab)` at the `n` positions that predict a learned token.
    fn learned_logits(&self, batch: &TokenBatch, dropout: Option<&Dropout>) -> Result<Tensor> {
        let hidden = self.forward_hidden(&batch.ids, &batch.lengths, dropout)?;
        let flat = hidden.reshape(((), self.cfg.hidden_size))?; // (b*seq, hidden)
        let rows = flat.index_select(&batch.loss_rows, 0)?; // (n, hidden)
        self.logits(&rows)
    }

    /// Mean loss per learned token, as a number.
    pub fn mean_loss(&self, batch: &TokenBatch) -> Result<f64> {
        let sum = self.loss_sum(batch, None)?.to_dtype(DType::F64)?;
        Ok(sum.to_scalar::<f64>()? / batch.loss_tokens.max(1) as f64)
    }
}

/// What `TrainModel::eval_batch` measures on one batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchEval {
    pub loss_sum: f64,
    /// Examples whose every learned token is the model's argmax under teacher forcing: exactly
    /// those that greedy decoding reproduces.
    pub exact_matches: usize,
    /// Examples with at least one learned token.
    pub scored_examples: usize,
}

/// `-Σ log softmax(logits)[target]` over the rows of `logits (n, vocab)`, `targets (n)`.
fn nll_sum(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let logprobs = ops::log_softmax_last_dim(logits)?;
    let picked = logprobs.gather(&targets.unsqueeze(1)?, D::Minus1)?; // (n, 1)
    Ok(picked.sum_all()?.neg()?)
}

/// Additive `(b, 1, seq, seq)`: causal, keys past a row's length hidden. Every query keeps its
/// own key, so pad rows stay finite.
fn padded_causal_mask(
    lengths: &[usize],
    seq: usize,
    dtype: DType,
    device: &Device,
) -> Result<Tensor> {
    causal_mask(lengths.len(), 0, seq, dtype, device, |row, query, key| {
        key == query || (key < query && key < lengths[row])
    })
}
