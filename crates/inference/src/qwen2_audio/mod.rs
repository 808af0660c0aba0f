//! Qwen2-Audio: Whisper-style audio encoder + projector feeding the shared Qwen2 decoder.

pub mod audio_encoder;
pub mod audio_model;
pub mod classify;
pub mod config;
pub mod embedding_cache;
pub use crate::lora;
pub mod model;
pub mod tokens;

pub use audio_encoder::AudioEncoder;
pub use audio_model::{
    AudioLoadOptions, AudioModel, ClassifyMode, ClassifyOptions, ClipAnswer, ClipInput,
};
pub use classify::{render_audio_prompt, LabelScore};
pub use config::{AudioEncoderConfig, Qwen2AudioConfig};
pub use lora::LoraAdapter;
pub use model::{audio_token_count, expand_audio_tokens, Qwen2AudioModel};
pub use tokens::{audio_token_ids, AudioTokenIds};
