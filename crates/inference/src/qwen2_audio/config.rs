//! Qwen2-Audio `config.json` as written by transformers; missing fields take the HF defaults
//! (Qwen2-Audio-7B: Whisper-large-v3 encoder, 128 mel bins).

use serde::Deserialize;

/// `audio_config` (transformers `Qwen2AudioEncoderConfig`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct AudioEncoderConfig {
    pub num_mel_bins: usize,
    pub encoder_layers: usize,
    pub encoder_attention_heads: usize,
    pub encoder_ffn_dim: usize,
    pub d_model: usize,
    pub activation_function: String,
    pub max_source_positions: usize,
    pub scale_embedding: bool,
}

impl Default for AudioEncoderConfig {
    fn default() -> Self {
        Self {
            num_mel_bins: 128,
            encoder_layers: 32,
            encoder_attention_heads: 20,
            encoder_ffn_dim: 5120,
            d_model: 1280,
            activation_function: "gelu".to_string(),
            max_source_positions: 1500,
            scale_embedding: false,
        }
    }
}

impl AudioEncoderConfig {
    pub fn head_dim(&self) -> usize {
        self.d_model / self.encoder_attention_heads.max(1)
    }

    /// Refuses what the encoder does not implement; called once by the constructor.
    pub fn validate(&self) -> Result<(), String> {
        if self.activation_function != "gelu" {
            return Err(format!(
                "audio_config.activation_function '{}' (only gelu)",
                self.activation_function
            ));
        }
        let dims = [
            self.num_mel_bins,
            self.encoder_layers,
            self.encoder_attention_heads,
            self.encoder_ffn_dim,
            self.d_model,
            self.max_source_positions,
        ];
        if dims.contains(&0) {
            return Err(format!("audio_config has a zero dimension: {self:?}"));
        }
        if !self.d_model.is_multiple_of(self.encoder_attention_heads) {
            return Err("audio_config.d_model is not a multiple of encoder_attention_heads".into());
        }
        Ok(())
    }
}

/// Top-level Qwen2-Audio `config.json`. `text_config` is kept as JSON and read by the shared
/// Qwen2 decoder config (`crate::config::HfQwen2Config`), which owns its defaults.
#[derive(Debug, Clone, Deserialize)]
pub struct Qwen2AudioConfig {
    #[serde(default)]
    pub audio_config: AudioEncoderConfig,
    #[serde(default = "empty_object")]
    pub text_config: serde_json::Value,
    #[serde(default = "default_audio_token_index", alias = "audio_token_id")]
    pub audio_token_index: u32,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

fn default_audio_token_index() -> u32 {
    151_646
}

/// Qwen2 default hidden size (transformers `Qwen2Config`), used when text_config omits it.
const DEFAULT_TEXT_HIDDEN_SIZE: usize = 4096;

impl Qwen2AudioConfig {
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("config.json: {e}"))
    }

    /// Width of the language model, i.e. the projector's output.
    pub fn text_hidden_size(&self) -> usize {
        self.text_config
            .get("hidden_size")
            .and_then(|v| v.as_u64())
            .map_or(DEFAULT_TEXT_HIDDEN_SIZE, |v| v as usize)
    }
}

/// Frames after the stride-2 conv, then audio tokens after the pool-by-2
/// (transformers `_get_feat_extract_output_lengths`).
pub fn encoder_output_lengths(valid_mel_frames: usize) -> (usize, usize) {
    let after_conv = valid_mel_frames.saturating_sub(1) / 2 + 1;
    let tokens = if after_conv >= 2 {
        (after_conv - 2) / 2 + 1
    } else {
        0
    };
    (after_conv, tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_takes_qwen2_audio_7b_defaults() {
        let cfg = Qwen2AudioConfig::from_json("{}").unwrap();
        assert_eq!(cfg.audio_config, AudioEncoderConfig::default());
        assert_eq!(cfg.audio_token_index, 151_646);
        assert_eq!(cfg.text_hidden_size(), 4096);
        assert_eq!(cfg.audio_config.head_dim(), 64);
    }

    #[test]
    fn output_lengths_match_transformers() {
        // 30 s → 1500 conv frames → 750 tokens; 1 s (100 frames) → 50 → 25.
        assert_eq!(encoder_output_lengths(3000), (1500, 750));
        assert_eq!(encoder_output_lengths(100), (50, 25));
        assert_eq!(encoder_output_lengths(101), (51, 25));
        assert_eq!(encoder_output_lengths(3), (2, 1));
        assert_eq!(encoder_output_lengths(1), (1, 0));
    }

    #[test]
    fn unsupported_activation_is_refused() {
        let cfg = AudioEncoderConfig {
            activation_function: "relu".into(),
            ..Default::default()
        };
        assert!(cfg.validate().unwrap_err().contains("relu"));
    }
}
