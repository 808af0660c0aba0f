//! One Qwen2 decoder layer on the training path: the same math as `qwen2.rs`, built from
//! differentiable ops, with every projection a [`LoraLinear`].

use candle_core::{DType, Tensor};

use super::lora_linear::{Dropout, LoraLinear};
use super::ops;
use super::spec::Target;
use crate::config::DecoderConfig;
use crate::error::Result;
use crate::qwen2::split_heads;
use crate::weights::Weights;

/// What every layer of one forward shares.
pub struct ForwardContext<'a> {
    pub cos: &'a Tensor,  // (seq, head_dim / 2)
    pub sin: &'a Tensor,  // (seq, head_dim / 2)
    pub mask: &'a Tensor, // (b, 1, seq, seq) additive
    pub dropout: Option<&'a Dropout>,
}

pub struct TrainLayer {
    input_norm: Tensor, // (hidden)
    post_norm: Tensor,  // (hidden)
    /// Indexed by `Target as usize` (the order of `Target::ALL`).
    projections: Vec<LoraLinear>,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    eps: f64,
}

impl TrainLayer {
    /// `vb` names `model.layers.{i}`.
    pub fn new(cfg: &DecoderConfig, vb: &Weights, dtype: DType) -> Result<Self> {
        let (hidden, inter) = (cfg.hidden_size, cfg.intermediate_size);
        let (q_out, kv_out) = (
            cfg.num_heads * cfg.head_dim,
            cfg.num_kv_heads * cfg.head_dim,
        );
        let shapes = [
            (hidden, q_out, true),
            (hidden, kv_out, true),
            (hidden, kv_out, true),
            (q_out, hidden, false),
            (hidden, inter, false),
            (hidden, inter, false),
            (inter, hidden, false),
        ];
        let projections = Target::ALL
            .iter()
            .zip(shapes)
            .map(|(target, (inp, out, bias))| {
                let linear = vb.pp(target.module_path()).linear(inp, out, bias)?;
                LoraLinear::frozen(linear, dtype)
            })
            .collect::<Result<Vec<_>>>()?;
        let norm = |name: &str| -> Result<Tensor> {
            Ok(vb.pp(name).vector("weight", hidden)?.to_dtype(dtype)?)
        };
        Ok(Self {
            input_norm: norm("input_layernorm")?,
            post_norm: norm("post_attention_layernorm")?,
            projections,
            heads: cfg.num_heads,
            kv_heads: cfg.num_kv_heads,
            head_dim: cfg.head_dim,
            eps: cfg.rms_norm_eps,
        })
    }

    pub fn projection(&self, target: Target) -> &LoraLinear {
        &self.projections[target as usize]
    }

    pub fn projection_mut(&mut self, target: Target) -> &mut LoraLinear {
        &mut self.projections[target as usize]
    }

    /// `(b, seq, hidden) -> (b, seq, hidden)`.
    pub fn forward(&self, xs: &Tensor, ctx: &ForwardContext) -> Result<Tensor> {
        let normed = ops::rms_norm(xs, &self.input_norm, self.eps)?;
        let xs = (xs + self.attention(&normed, ctx)?)?;
        let normed = ops::rms_norm(&xs, &self.post_norm, self.eps)?;
        Ok((&xs + self.mlp(&normed, ctx)?)?)
    }

    fn project(&self, target: Target, xs: &Tensor, ctx: &ForwardContext) -> Result<Tensor> {
        self.projection(target).forward(xs, ctx.dropout)
    }

    fn attention(&self, xs: &Tensor, ctx: &ForwardContext) -> Result<Tensor> {
        let (b, seq, _) = xs.dims3()?;
        let heads = |target, n| split_heads(&self.project(target, xs, ctx)?, n, self.head_dim);
        let q = heads(Target::QProj, self.heads)?;
        let k = heads(Target::KProj, self.kv_heads)?;
        let v = heads(Target::VProj, self.kv_heads)?;
        let q = ops::rope(&q, ctx.cos, ctx.sin)?;
        let k = ops::rope(&k, ctx.cos, ctx.sin)?.contiguous()?; // (b, kv_heads, seq, d)
        let groups = self.heads / self.kv_heads;
        // Query head h uses kv head h / groups: fold the groups into the query length.
        let q = q.reshape((b, self.kv_heads, groups * seq, self.head_dim))?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?; // (b, kv_heads, g*seq, seq)
        let scores = scores
            .reshape((b, self.kv_heads, groups, seq, seq))?
            .broadcast_add(&ctx.mask.unsqueeze(1)?)?
            .reshape((b, self.kv_heads, groups * seq, seq))?;
        let probs = ops::softmax_last_dim(&scores)?;
        let out = probs.matmul(&v)?; // (b, kv_heads, g*seq, d)
        let out = out
            .reshape((b, self.heads, seq, self.head_dim))?
            .transpose(1, 2)?
            .reshape((b, seq, self.heads * self.head_dim))?;
        self.project(Target::OProj, &out, ctx)
    }

    fn mlp(&self, xs: &Tensor, ctx: &ForwardContext) -> Result<Tensor> {
        let gate = self.project(Target::GateProj, xs, ctx)?.silu()?;
        let up = self.project(Target::UpProj, xs, ctx)?;
        self.project(Target::DownProj, &(gate * up)?, ctx)
    }
}
