//! Qwen2-Audio audio tower (Whisper-large-v3 encoder + pool-by-2) and the multi-modal projector.
//! Weight names follow the HF checkpoint: `audio_tower.*`, `multi_modal_projector.linear`.

use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{
    conv1d, layer_norm, linear, linear_no_bias, Conv1d, Conv1dConfig, LayerNorm, Linear, VarBuilder,
};

use super::config::{encoder_output_lengths, AudioEncoderConfig};
use crate::audio::{AudioError, LogMelFeatures};
use crate::error::{InferenceError, Result};

const LAYER_NORM_EPS: f64 = 1e-5;

/// Self-attention without a causal mask; `k_proj` has no bias (Whisper).
struct EncoderAttention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    num_heads: usize,
    head_dim: usize,
}

impl EncoderAttention {
    fn new(cfg: &AudioEncoderConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let d = cfg.d_model;
        Ok(Self {
            q_proj: linear(d, d, vb.pp("q_proj"))?,
            k_proj: linear_no_bias(d, d, vb.pp("k_proj"))?,
            v_proj: linear(d, d, vb.pp("v_proj"))?,
            out_proj: linear(d, d, vb.pp("out_proj"))?,
            num_heads: cfg.encoder_attention_heads,
            head_dim: cfg.head_dim(),
        })
    }

    /// (b, seq, heads*head_dim) → (b, heads, seq, head_dim)
    fn split_heads(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let (b, seq, _) = xs.dims3()?;
        xs.reshape((b, seq, self.num_heads, self.head_dim))?
            .transpose(1, 2)?
            .contiguous()
    }

    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let (b, seq, d) = xs.dims3()?;
        // Scale q before the product, as the reference does.
        let scale = (self.head_dim as f64).powf(-0.5);
        let q = self.split_heads(&(self.q_proj.forward(xs)? * scale)?)?;
        let k = self.split_heads(&self.k_proj.forward(xs)?)?;
        let v = self.split_heads(&self.v_proj.forward(xs)?)?;
        let scores = q.matmul(&k.t()?)?; // (b, heads, seq, seq)
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, seq, d))?;
        self.out_proj.forward(&out)
    }
}

/// Pre-LN transformer block: attention then GELU MLP, each with a residual.
struct EncoderLayer {
    self_attn: EncoderAttention,
    self_attn_layer_norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    final_layer_norm: LayerNorm,
}

impl EncoderLayer {
    fn new(cfg: &AudioEncoderConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let d = cfg.d_model;
        Ok(Self {
            self_attn: EncoderAttention::new(cfg, vb.pp("self_attn"))?,
            self_attn_layer_norm: layer_norm(d, LAYER_NORM_EPS, vb.pp("self_attn_layer_norm"))?,
            fc1: linear(d, cfg.encoder_ffn_dim, vb.pp("fc1"))?,
            fc2: linear(cfg.encoder_ffn_dim, d, vb.pp("fc2"))?,
            final_layer_norm: layer_norm(d, LAYER_NORM_EPS, vb.pp("final_layer_norm"))?,
        })
    }
}

impl Module for EncoderLayer {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        let attn = self
            .self_attn
            .forward(&self.self_attn_layer_norm.forward(xs)?)?;
        let xs = (xs + attn)?;
        let hidden = self
            .fc1
            .forward(&self.final_layer_norm.forward(&xs)?)?
            .gelu_erf()?;
        xs + self.fc2.forward(&hidden)?
    }
}

/// Audio tower plus projector: log-mel features in, one embedding per audio token out.
pub struct AudioEncoder {
    conv1: Conv1d,
    conv2: Conv1d,
    embed_positions: Tensor,
    layers: Vec<EncoderLayer>,
    layer_norm: LayerNorm,
    projector: Linear,
    cfg: AudioEncoderConfig,
    embed_scale: f64,
}

impl AudioEncoder {
    /// `vb` is the checkpoint root (holding `audio_tower.*` and `multi_modal_projector.*`).
    pub fn new(cfg: &AudioEncoderConfig, text_hidden_size: usize, vb: VarBuilder) -> Result<Self> {
        cfg.validate().map_err(InferenceError::format)?;
        Self::load(cfg, text_hidden_size, vb)
            .map_err(|e| InferenceError::format(format!("audio encoder weights: {e}")))
    }

    fn load(
        cfg: &AudioEncoderConfig,
        text_hidden: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let tower = vb.pp("audio_tower");
        let d = cfg.d_model;
        let same = Conv1dConfig {
            padding: 1,
            ..Default::default()
        };
        let strided = Conv1dConfig {
            padding: 1,
            stride: 2,
            ..Default::default()
        };
        let layers = (0..cfg.encoder_layers)
            .map(|i| EncoderLayer::new(cfg, tower.pp(format!("layers.{i}"))))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self {
            conv1: conv1d(cfg.num_mel_bins, d, 3, same, tower.pp("conv1"))?,
            conv2: conv1d(d, d, 3, strided, tower.pp("conv2"))?,
            embed_positions: tower.get((cfg.max_source_positions, d), "embed_positions.weight")?,
            layers,
            layer_norm: layer_norm(d, LAYER_NORM_EPS, tower.pp("layer_norm"))?,
            projector: linear(d, text_hidden, vb.pp("multi_modal_projector").pp("linear"))?,
            embed_scale: if cfg.scale_embedding {
                (d as f64).sqrt()
            } else {
                1.0
            },
            cfg: cfg.clone(),
        })
    }

    pub fn config(&self) -> &AudioEncoderConfig {
        &self.cfg
    }

    fn dtype(&self) -> DType {
        self.embed_positions.dtype()
    }

    fn device(&self) -> &Device {
        self.embed_positions.device()
    }

    /// Projected audio embeddings `(n_audio_tokens, text_hidden)` for one clip.
    ///
    /// Only the valid (non-padding) frames are encoded: with padded keys masked out, as the
    /// reference does, the valid positions' outputs do not depend on the padded ones.
    pub fn encode(&self, features: &LogMelFeatures) -> Result<Tensor> {
        let expected_frames = 2 * self.cfg.max_source_positions;
        if features.n_mels != self.cfg.num_mel_bins || features.n_frames != expected_frames {
            return Err(InferenceError::bad_input(format!(
                "log-mel features are {}x{}, the encoder expects {}x{expected_frames}",
                features.n_mels, features.n_frames, self.cfg.num_mel_bins
            )));
        }
        let (conv_frames, n_tokens) = encoder_output_lengths(features.valid_frames);
        if n_tokens == 0 {
            return Err(AudioError::bad("the audio is too short (needs at least 30 ms)").into());
        }
        let mel = Tensor::from_slice(
            &features.data,
            (features.n_mels, features.n_frames),
            self.device(),
        )?;
        // Frames 0..=2*conv_frames feed the first `conv_frames` outputs of the stride-2 conv.
        let needed = (2 * conv_frames + 1).min(features.n_frames);
        let mel = mel
            .narrow(1, 0, needed)?
            .unsqueeze(0)?
            .to_dtype(self.dtype())?; // (1, mels, needed)
        let hidden = self.encode_frames(&mel, conv_frames)?;
        // Average pool by 2 over time, then the final LayerNorm and the projector.
        let pooled = hidden
            .narrow(1, 0, 2 * n_tokens)?
            .reshape((1, n_tokens, 2, self.cfg.d_model))?
            .mean(2)?;
        let projected = self.projector.forward(&self.layer_norm.forward(&pooled)?)?;
        Ok(projected.squeeze(0)?)
    }

    /// Convs, positions and transformer layers: (1, mels, frames) → (1, conv_frames, d_model).
    fn encode_frames(&self, mel: &Tensor, conv_frames: usize) -> candle_core::Result<Tensor> {
        let xs = self.conv1.forward(mel)?.gelu_erf()?;
        let xs = self.conv2.forward(&xs)?.gelu_erf()?; // (1, d_model, >= conv_frames)
        let xs = xs.narrow(D::Minus1, 0, conv_frames)?.transpose(1, 2)?;
        let xs = (xs * self.embed_scale)?;
        let positions = self
            .embed_positions
            .narrow(0, 0, conv_frames)?
            .unsqueeze(0)?;
        let mut xs = xs.broadcast_add(&positions)?;
        for layer in &self.layers {
            xs = layer.forward(&xs)?;
        }
        Ok(xs)
    }
}
