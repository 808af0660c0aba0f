//! Qwen2 configuration: the HF `config.json` as written by transformers, or GGUF `qwen2.*` metadata,
//! validated once into [`DecoderConfig`] (the only form the decoder sees).

use std::collections::HashMap;

use candle_core::quantized::gguf_file::Value;
use serde::{Deserialize, Serialize};

use crate::error::{InferenceError, Result};

/// HF `config.json` of a Qwen2/Qwen2.5 model; missing fields take the transformers defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct HfQwen2Config {
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default = "default_vocab_size")]
    pub vocab_size: usize,
    #[serde(default = "default_hidden_size")]
    pub hidden_size: usize,
    #[serde(default = "default_intermediate_size")]
    pub intermediate_size: usize,
    #[serde(default = "default_num_layers")]
    pub num_hidden_layers: usize,
    #[serde(default = "default_num_heads")]
    pub num_attention_heads: usize,
    /// Defaults to `num_attention_heads` (no grouping), as in transformers.
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    #[serde(default)]
    pub head_dim: Option<usize>,
    #[serde(default = "default_hidden_act")]
    pub hidden_act: String,
    #[serde(default = "default_max_position_embeddings")]
    pub max_position_embeddings: usize,
    #[serde(default = "default_rms_norm_eps")]
    pub rms_norm_eps: f64,
    /// transformers < 5 writes `rope_theta` at the top level ...
    #[serde(default)]
    pub rope_theta: Option<f64>,
    /// ... transformers >= 5 writes it inside `rope_parameters`.
    #[serde(default)]
    pub rope_parameters: Option<RopeParameters>,
    #[serde(default)]
    pub rope_scaling: Option<RopeParameters>,
    #[serde(default)]
    pub tie_word_embeddings: bool,
    #[serde(default)]
    pub use_sliding_window: bool,
}

/// The RoPE block of a config (`rope_parameters` or legacy `rope_scaling`).
#[derive(Debug, Clone, Deserialize)]
pub struct RopeParameters {
    #[serde(default)]
    pub rope_theta: Option<f64>,
    #[serde(default, alias = "type")]
    pub rope_type: Option<String>,
}

fn default_vocab_size() -> usize {
    151936
}
fn default_hidden_size() -> usize {
    4096
}
fn default_intermediate_size() -> usize {
    22016
}
fn default_num_layers() -> usize {
    32
}
fn default_num_heads() -> usize {
    32
}
fn default_hidden_act() -> String {
    "silu".to_string()
}
fn default_max_position_embeddings() -> usize {
    32768
}
fn default_rms_norm_eps() -> f64 {
    1e-6
}

const DEFAULT_ROPE_THETA: f64 = 10000.0;

/// Validated decoder hyper-parameters shared by Qwen2 text models and the Qwen2-Audio language model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecoderConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub max_position_embeddings: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub tie_word_embeddings: bool,
}

impl HfQwen2Config {
    /// Parses `config.json` text.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| InferenceError::format(format!("config.json: {e}")))
    }

    /// Refuses what the decoder does not implement (other architectures, activations, RoPE scaling).
    pub fn to_decoder_config(&self) -> Result<DecoderConfig> {
        if let Some(kind) = self.model_type.as_deref() {
            if kind != "qwen2" {
                return Err(unsupported(format!("model_type '{kind}' (only qwen2)")));
            }
        }
        if self.hidden_act != "silu" {
            return Err(unsupported(format!("hidden_act '{}'", self.hidden_act)));
        }
        if self.use_sliding_window {
            return Err(unsupported("use_sliding_window=true"));
        }
        let rope = self.rope_parameters.as_ref().or(self.rope_scaling.as_ref());
        if let Some(kind) = rope.and_then(|r| r.rope_type.as_deref()) {
            if kind != "default" {
                return Err(unsupported(format!("rope type '{kind}'")));
            }
        }
        let rope_theta = rope
            .and_then(|r| r.rope_theta)
            .or(self.rope_theta)
            .unwrap_or(DEFAULT_ROPE_THETA);
        let heads = self.num_attention_heads;
        let head_dim = self.head_dim.unwrap_or(self.hidden_size / heads.max(1));
        DecoderConfig {
            vocab_size: self.vocab_size,
            hidden_size: self.hidden_size,
            intermediate_size: self.intermediate_size,
            num_layers: self.num_hidden_layers,
            num_heads: heads,
            num_kv_heads: self.num_key_value_heads.unwrap_or(heads),
            head_dim,
            max_position_embeddings: self.max_position_embeddings,
            rms_norm_eps: self.rms_norm_eps,
            rope_theta,
            tie_word_embeddings: self.tie_word_embeddings,
        }
        .validated()
    }
}

impl DecoderConfig {
    /// Reads `qwen2.*` GGUF metadata; the vocabulary size comes from the embedding tensor.
    pub fn from_gguf(meta: &HashMap<String, Value>, vocab_size: usize, tied: bool) -> Result<Self> {
        let arch = meta_string(meta, "general.architecture")?;
        if arch != "qwen2" {
            return Err(unsupported(format!(
                "GGUF architecture '{arch}' (only qwen2)"
            )));
        }
        let hidden_size = meta_usize(meta, "qwen2.embedding_length")?;
        let num_heads = meta_usize(meta, "qwen2.attention.head_count")?;
        DecoderConfig {
            vocab_size,
            hidden_size,
            intermediate_size: meta_usize(meta, "qwen2.feed_forward_length")?,
            num_layers: meta_usize(meta, "qwen2.block_count")?,
            num_heads,
            num_kv_heads: meta_usize(meta, "qwen2.attention.head_count_kv")?,
            head_dim: hidden_size / num_heads.max(1),
            max_position_embeddings: meta_usize(meta, "qwen2.context_length")?,
            rms_norm_eps: meta_f64(meta, "qwen2.attention.layer_norm_rms_epsilon")?,
            rope_theta: meta_f64(meta, "qwen2.rope.freq_base").unwrap_or(DEFAULT_ROPE_THETA),
            tie_word_embeddings: tied,
        }
        .validated()
    }

    /// Checks the invariants the decoder relies on; called once by every constructor.
    pub fn validated(self) -> Result<Self> {
        let dims = [
            self.vocab_size,
            self.hidden_size,
            self.intermediate_size,
            self.num_layers,
            self.num_heads,
            self.num_kv_heads,
            self.head_dim,
            self.max_position_embeddings,
        ];
        if dims.iter().any(|&d| d == 0 || d > 1 << 24) {
            return Err(unsupported(format!("dimension out of range in {self:?}")));
        }
        if !self.num_heads.is_multiple_of(self.num_kv_heads) {
            return Err(unsupported(
                "num_attention_heads not a multiple of num_key_value_heads",
            ));
        }
        if !self.head_dim.is_multiple_of(2) || self.num_heads * self.head_dim != self.hidden_size {
            return Err(unsupported(
                "head_dim must be even and heads*head_dim == hidden_size",
            ));
        }
        if !(self.rms_norm_eps > 0.0 && self.rope_theta > 0.0) {
            return Err(unsupported("rms_norm_eps and rope_theta must be positive"));
        }
        Ok(self)
    }

    /// Query heads served by each key/value head.
    pub fn group_size(&self) -> usize {
        self.num_heads / self.num_kv_heads
    }
}

fn unsupported(what: impl std::fmt::Display) -> InferenceError {
    InferenceError::format(format!("unsupported config: {what}"))
}

fn meta_value<'a>(meta: &'a HashMap<String, Value>, key: &str) -> Result<&'a Value> {
    meta.get(key)
        .ok_or_else(|| InferenceError::format(format!("GGUF metadata '{key}' missing")))
}

fn meta_string(meta: &HashMap<String, Value>, key: &str) -> Result<String> {
    match meta_value(meta, key)? {
        Value::String(s) => Ok(s.clone()),
        other => Err(InferenceError::format(format!(
            "GGUF '{key}' is not a string: {other:?}"
        ))),
    }
}

fn meta_usize(meta: &HashMap<String, Value>, key: &str) -> Result<usize> {
    let value = meta_value(meta, key)?;
    let as_u64 = value.to_u64().or_else(|_| value.to_u32().map(u64::from));
    let as_i = value.to_i32().ok().and_then(|v| u64::try_from(v).ok());
    as_u64
        .ok()
        .or(as_i)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or_else(|| InferenceError::format(format!("GGUF '{key}' is not an unsigned integer")))
}

fn meta_f64(meta: &HashMap<String, Value>, key: &str) -> Result<f64> {
    let value = meta_value(meta, key)?;
    value
        .to_f32()
        .map(f64::from)
        .or_else(|_| value.to_f64())
        .map_err(|_| InferenceError::format(format!("GGUF '{key}' is not a float")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hf_defaults_fill_missing_fields() {
        let cfg = HfQwen2Config::from_json(
            r#"{"model_type":"qwen2","hidden_size":64,
            "num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":128,
            "num_hidden_layers":2,"vocab_size":300}"#,
        )
        .unwrap()
        .to_decoder_config()
        .unwrap();
        assert_eq!(cfg.head_dim, 16);
        assert_eq!(cfg.group_size(), 2);
        assert_eq!(cfg.rope_theta, 10000.0);
        assert_eq!(cfg.rms_norm_eps, 1e-6);
        assert_eq!(cfg.max_position_embeddings, 32768);
        assert!(!cfg.tie_word_embeddings);
    }

    #[test]
    fn rope_theta_read_from_rope_parameters() {
        let cfg = HfQwen2Config::from_json(
            r#"{"hidden_size":64,"num_attention_heads":4,"num_key_value_heads":2,
            "rope_parameters":{"rope_theta":1000000.0,"rope_type":"default"}}"#,
        )
        .unwrap()
        .to_decoder_config()
        .unwrap();
        assert_eq!(cfg.rope_theta, 1_000_000.0);
    }

    #[test]
    fn unsupported_configs_are_refused() {
        let cases = [
            r#"{"model_type":"llama"}"#,
            r#"{"hidden_act":"gelu"}"#,
            r#"{"rope_scaling":{"type":"yarn","factor":4.0}}"#,
            r#"{"hidden_size":64,"num_attention_heads":4,"num_key_value_heads":3}"#,
            r#"{"hidden_size":0}"#,
        ];
        for case in cases {
            let err = HfQwen2Config::from_json(case).and_then(|c| c.to_decoder_config());
            assert_eq!(err.unwrap_err().code(), "E_MODEL_FORMAT", "{case}");
        }
    }
}
