//! Native Qwen2/Qwen2.5 text inference on candle.
//!
//! - [`TextModel`] loads a GGUF file (Q4_0, Q4_K_M, Q5_K_M, Q8_0, F32, ...) or an HF folder
//!   (config.json + safetensors, sharded or not) with its `tokenizer.json`, and offers
//!   [`TextModel::generate`], [`TextModel::generate_batch`] and [`TextModel::score_choices`].
//! - [`Qwen2Decoder`] is the decoder alone (token ids or input embeddings in, logits out, KV cache
//!   passed in), shared with Qwen2-Audio.
//! - Every error is an [`InferenceError`] with a stable [`InferenceError::code`].

pub mod audio;
pub mod config;
pub mod error;
mod generate;
pub mod gguf_read;
pub mod kv_cache;
pub mod loader;
pub mod lora;
pub mod mask;
pub mod memory;
pub mod numbers;
pub mod qwen2;
pub mod qwen2_audio;
mod repack;
pub mod sampling;
mod score;
pub mod stop;
pub mod text_adapter;
mod text_model;
pub mod tokenizer;
pub mod train;
pub mod types;
pub mod unmerged_lora;
pub mod weights;

pub use config::{DecoderConfig, HfQwen2Config};
pub use error::{InferenceError, Result};
pub use kv_cache::KvCache;
pub use loader::WeightFormat;
pub use mask::{AttentionLayout, BatchLayout};
pub use qwen2::{DecoderInput, Qwen2Decoder};
pub use repack::{int8_prefill, CPU_INT8_ENV};
pub use sampling::SamplingParams;
pub use text_model::{cuda_available, TextModel};
pub use tokenizer::ChatMessage;
pub use types::{
    AdapterInfo, ChoiceScore, ChoiceScores, DTypeRequest, DeviceRequest, FinishReason,
    GenerateOutput, GenerateRequest, LoadOptions, ModelInfo, PromptInput, Usage,
};
