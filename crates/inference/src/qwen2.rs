//! The Qwen2 decoder (shared by Qwen2/Qwen2.5 text models and the Qwen2-Audio language model).
//! Takes token ids or input embeddings; attention is grouped-query without repeating K/V.

use candle_core::{DType, Device, Module, Tensor, D};

use crate::config::DecoderConfig;
use crate::error::Result;
use crate::kv_cache::{KvCache, LayerCache};
use crate::mask::AttentionLayout;
use crate::weights::{tensor_bytes, Embedding, Linear, Weights};

/// RoPE cos/sin tables, always f32: `(max_positions, head_dim / 2)`.
#[derive(Debug, Clone)]
pub(crate) struct RotaryTables {
    pub(crate) cos: Tensor,
    pub(crate) sin: Tensor,
}

impl RotaryTables {
    pub(crate) fn new(cfg: &DecoderConfig, device: &Device) -> Result<Self> {
        let half = cfg.head_dim / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / cfg.rope_theta.powf(2.0 * i as f64 / cfg.head_dim as f64) as f32)
            .collect();
        let inv_freq = Tensor::from_vec(inv_freq, (1, half), device)?;
        let positions = Tensor::arange(0u32, cfg.max_position_embeddings as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((cfg.max_position_embeddings, 1))?;
        let freqs = positions.broadcast_mul(&inv_freq)?; // (max_pos, half)
        Ok(Self {
            cos: freqs.cos()?,
            sin: freqs.sin()?,
        })
    }

    /// Tables for this step: `(seq, half)` when rows share positions, else `(b, seq, half)`.
    fn select(
        &self,
        past: usize,
        seq: usize,
        positions: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor)> {
        match positions {
            None => Ok((
                self.cos.narrow(0, past, seq)?,
                self.sin.narrow(0, past, seq)?,
            )),
            Some(pos) => {
                let (b, s) = pos.dims2()?;
                let flat = pos.flatten_all()?;
                let pick = |t: &Tensor| t.index_select(&flat, 0)?.reshape((b, s, ()));
                Ok((pick(&self.cos)?, pick(&self.sin)?))
            }
        }
    }

    /// Rotates `(b, heads, seq, d)` in f32 and returns it in its own dtype.
    fn apply(xs: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
        let dtype = xs.dtype();
        let rotated =
            candle_nn::rotary_emb::rope(&xs.to_dtype(DType::F32)?.contiguous()?, cos, sin)?;
        Ok(rotated.to_dtype(dtype)?)
    }
}

/// What one attention call needs besides the hidden states.
struct StepContext<'a> {
    past: usize,
    cos: &'a Tensor,
    sin: &'a Tensor,
    mask: Option<&'a Tensor>, // (b, 1, seq, past + seq)
}

#[derive(Debug, Clone)]
struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(cfg: &DecoderConfig, vb: &Weights) -> Result<Self> {
        let (h, kv, d) = (cfg.num_heads, cfg.num_kv_heads, cfg.head_dim);
        Ok(Self {
            q_proj: vb.pp("q_proj").linear(cfg.hidden_size, h * d, true)?,
            k_proj: vb.pp("k_proj").linear(cfg.hidden_size, kv * d, true)?,
            v_proj: vb.pp("v_proj").linear(cfg.hidden_size, kv * d, true)?,
            o_proj: vb.pp("o_proj").linear(h * d, cfg.hidden_size, false)?,
            heads: h,
            kv_heads: kv,
            head_dim: d,
        })
    }

    fn forward(&self, xs: &Tensor, ctx: &StepContext, cache: &mut LayerCache) -> Result<Tensor> {
        let (b, seq, _) = xs.dims3()?;
        let q = split_heads(&self.q_proj.forward(xs)?, self.heads, self.head_dim)?;
        let k = split_heads(&self.k_proj.forward(xs)?, self.kv_heads, self.head_dim)?;
        let v = split_heads(&self.v_proj.forward(xs)?, self.kv_heads, self.head_dim)?;
        let q = RotaryTables::apply(&q, ctx.cos, ctx.sin)?;
        let k = RotaryTables::apply(&k, ctx.cos, ctx.sin)?;
        let (k, v) = cache.append(&k, &v)?; // (b, kv_heads, kv_len, d)
        let kv_len = ctx.past + seq;
        let groups = self.heads / self.kv_heads;
        // Query head h uses kv head h / groups: fold the groups into the query length.
        let q = q.reshape((b, self.kv_heads, groups * seq, self.head_dim))?;
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let scores = (q.matmul(&k.t()?)? * scale)?.to_dtype(DType::F32)?; // (b, kv_heads, g*seq, kv_len)
        let scores = match ctx.mask {
            None => scores,
            Some(mask) => scores
                .reshape((b, self.kv_heads, groups, seq, kv_len))?
                .broadcast_add(&mask.to_dtype(DType::F32)?.unsqueeze(1)?)?
                .reshape((b, self.kv_heads, groups * seq, kv_len))?,
        };
        let probs = candle_nn::ops::softmax_last_dim(&scores)?.to_dtype(v.dtype())?;
        let out = probs.matmul(&v)?; // (b, kv_heads, g*seq, d)
        let out = out
            .reshape((b, self.heads, seq, self.head_dim))?
            .transpose(1, 2)?;
        let out = out.reshape((b, seq, self.heads * self.head_dim))?;
        Ok(self.o_proj.forward(&out)?)
    }
}

#[derive(Debug, Clone)]
struct Mlp {
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

impl Mlp {
    fn new(cfg: &DecoderConfig, vb: &Weights) -> Result<Self> {
        let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
        Ok(Self {
            gate_proj: vb.pp("gate_proj").linear(h, i, false)?,
            up_proj: vb.pp("up_proj").linear(h, i, false)?,
            down_proj: vb.pp("down_proj").linear(i, h, false)?,
        })
    }
}

impl Module for Mlp {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let gate = candle_nn::ops::silu(&self.gate_proj.forward(xs)?)?;
        self.down_proj.forward(&(gate * self.up_proj.forward(xs)?)?)
    }
}

#[derive(Debug, Clone)]
struct RmsNorm {
    weight: Tensor,
    eps: f32,
}

impl RmsNorm {
    fn new(cfg: &DecoderConfig, vb: &Weights) -> Result<Self> {
        Ok(Self {
            weight: vb.vector("weight", cfg.hidden_size)?,
            eps: cfg.rms_norm_eps as f32,
        })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::ops::rms_norm(xs, &self.weight, self.eps)?)
    }
}

#[derive(Debug, Clone)]
struct DecoderLayer {
    input_layernorm: RmsNorm,
    self_attn: Attention,
    post_attention_layernorm: RmsNorm,
    mlp: Mlp,
}

impl DecoderLayer {
    /// The seven projections, attention then MLP.
    fn projections(&self) -> [&Linear; 7] {
        let (a, m) = (&self.self_attn, &self.mlp);
        [
            &a.q_proj,
            &a.k_proj,
            &a.v_proj,
            &a.o_proj,
            &m.gate_proj,
            &m.up_proj,
            &m.down_proj,
        ]
    }

    fn new(cfg: &DecoderConfig, vb: &Weights) -> Result<Self> {
        Ok(Self {
            input_layernorm: RmsNorm::new(cfg, &vb.pp("input_layernorm"))?,
            self_attn: Attention::new(cfg, &vb.pp("self_attn"))?,
            post_attention_layernorm: RmsNorm::new(cfg, &vb.pp("post_attention_layernorm"))?,
            mlp: Mlp::new(cfg, &vb.pp("mlp"))?,
        })
    }

    fn forward(&self, xs: &Tensor, ctx: &StepContext, cache: &mut LayerCache) -> Result<Tensor> {
        let attn = self
            .self_attn
            .forward(&self.input_layernorm.forward(xs)?, ctx, cache)?;
        let xs = (xs + attn)?;
        let mlp = self
            .mlp
            .forward(&self.post_attention_layernorm.forward(&xs)?)?;
        Ok((xs + mlp)?)
    }
}

/// `(b, seq, heads * head_dim) -> (b, heads, seq, head_dim)`; shared with the training layer.
pub(crate) fn split_heads(xs: &Tensor, heads: usize, head_dim: usize) -> Result<Tensor> {
    let (b, seq, _) = xs.dims3()?;
    Ok(xs
        .reshape((b, seq, heads, head_dim))?
        .transpose(1, 2)?
        .contiguous()?)
}

/// Decoder input: token ids `(b, seq)` u32, or embeddings `(b, seq, hidden)` (e.g. audio features
/// spliced into text embeddings by Qwen2-Audio).
pub enum DecoderInput<'a> {
    Tokens(&'a Tensor),
    Embeddings(&'a Tensor),
}

/// Qwen2 decoder with its LM head. Stateless apart from weights; the cache is passed in.
#[derive(Debug, Clone)]
pub struct Qwen2Decoder {
    embed_tokens: Embedding,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    lm_head: Linear,
    rope: RotaryTables,
    cfg: DecoderConfig,
    dtype: DType,
    device: Device,
}

impl Qwen2Decoder {
    /// `vb` is the root holding `model.*` and, unless tied, `lm_head.weight`.
    pub fn new(cfg: &DecoderConfig, vb: &Weights, dtype: DType, device: &Device) -> Result<Self> {
        let model = vb.pp("model");
        let embed_tokens = model
            .pp("embed_tokens")
            .embedding(cfg.vocab_size, cfg.hidden_size)?;
        let layers = (0..cfg.num_layers)
            .map(|i| DecoderLayer::new(cfg, &model.pp("layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        let lm_head = if cfg.tie_word_embeddings {
            embed_tokens.as_linear()?
        } else {
            vb.pp("lm_head")
                .linear(cfg.hidden_size, cfg.vocab_size, false)?
        };
        Ok(Self {
            embed_tokens,
            layers,
            norm: RmsNorm::new(cfg, &model.pp("norm"))?,
            lm_head,
            rope: RotaryTables::new(cfg, device)?,
            cfg: cfg.clone(),
            dtype,
            device: device.clone(),
        })
    }

    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// A fresh cache with one slot per layer.
    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.layers.len())
    }

    /// Token embeddings `(b, seq) -> (b, seq, hidden)`.
    pub fn embed(&self, ids: &Tensor) -> Result<Tensor> {
        Ok(self.embed_tokens.forward(ids, self.dtype)?)
    }

    /// Runs the layers on `seq` new positions after the cached ones; returns the final-normed hidden
    /// states `(b, seq, hidden)`. `layout` places the new positions (left padding, a choice tree).
    pub fn forward_hidden(
        &self,
        input: DecoderInput,
        layout: &impl AttentionLayout,
        cache: &mut KvCache,
    ) -> Result<Tensor> {
        let mut xs = match input {
            DecoderInput::Tokens(ids) => self.embed(ids)?,
            DecoderInput::Embeddings(e) => e.to_dtype(self.dtype)?,
        };
        let (_, seq, _) = xs.dims3()?;
        let past = cache.len();
        let positions = layout.positions(past, seq, &self.device)?;
        let (cos, sin) = self.rope.select(past, seq, positions.as_ref())?;
        let mask = layout.mask(past, seq, self.dtype, &self.device)?;
        let ctx = StepContext {
            past,
            cos: &cos,
            sin: &sin,
            mask: mask.as_ref(),
        };
        for (layer, layer_cache) in self.layers.iter().zip(cache.layers.iter_mut()) {
            xs = layer.forward(&xs, &ctx, layer_cache)?;
        }
        self.norm.forward(&xs)
    }

    /// Logits `(…, vocab)` in f32 for normed hidden states `(…, hidden)`.
    pub fn logits(&self, hidden: &Tensor) -> Result<Tensor> {
        Ok(self.lm_head.forward(hidden)?.to_dtype(DType::F32)?)
    }

    /// Convenience: logits of the last position of every row, `(b, vocab)`.
    pub fn forward_last(
        &self,
        input: DecoderInput,
        layout: &impl AttentionLayout,
        cache: &mut KvCache,
    ) -> Result<Tensor> {
        let hidden = self.forward_hidden(input, layout, cache)?;
        let seq = hidden.dim(1)?;
        self.logits(&hidden.narrow(1, seq - 1, 1)?.squeeze(1)?)
    }

    /// Weight bytes one decode step reads: every projection and the output head in their
    /// resident encoding, and the norms (the embedding lookup's one row is left out). Decode speed
    /// times this, against a copy loop's bandwidth, is how close decode is to the memory roofline.
    pub fn decode_read_bytes(&self) -> usize {
        let norm = |n: &RmsNorm| tensor_bytes(&n.weight);
        let layer = |l: &DecoderLayer| {
            l.projections()
                .iter()
                .map(|p| p.resident_bytes())
                .sum::<usize>()
                + norm(&l.input_layernorm)
                + norm(&l.post_attention_layernorm)
        };
        self.layers.iter().map(layer).sum::<usize>()
            + norm(&self.norm)
            + self.lm_head.resident_bytes()
    }

    /// Number of weights (quantized weights count as their logical element count).
    pub fn param_count(&self) -> usize {
        let layer = |l: &DecoderLayer| {
            l.projections()
                .iter()
                .map(|p| p.param_count())
                .sum::<usize>()
                + l.input_layernorm.weight.elem_count()
                + l.post_attention_layernorm.weight.elem_count()
        };
        let head = if self.cfg.tie_word_embeddings {
            0
        } else {
            self.lm_head.param_count()
        };
        self.embed_tokens.param_count()
            + self.layers.iter().map(layer).sum::<usize>()
            + self.norm.weight.elem_count()
            + head
    }
}

/// Max over the last dim, for tests and diagnostics.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    Ok((a - b)?
        .abs()?
        .flatten_all()?
        .max(D::Minus1)?
        .to_scalar::<f32>()?)
}
