//! Public request/response types (serde, camelCase field names for the JS side).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::loader::WeightFormat;
use crate::sampling::SamplingParams;
use crate::tokenizer::ChatMessage;

/// Where to run the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeviceRequest {
    #[default]
    Cpu,
    /// CUDA device ordinal; needs the crate's `cuda` feature.
    Cuda(usize),
}

/// Activation/weight dtype for dense weights. Default: f32 on CPU, bf16 on CUDA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DTypeRequest {
    F32,
    F16,
    Bf16,
}

/// How to load a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LoadOptions {
    pub device: DeviceRequest,
    pub dtype: Option<DTypeRequest>,
    /// `tokenizer.json` to use; default: the one next to the weights. Required for a GGUF file
    /// without a `tokenizer.json` beside it.
    pub tokenizer_path: Option<PathBuf>,
    /// Holds the decoder's projection matrices 4-bit (Q4_0: blocks of 32 weights with one scale),
    /// quantized from dense (safetensors) weights at load, as `load_in_4bit` does in transformers.
    /// Embeddings and the output head stay dense. GGUF weights are already quantized: ignored.
    pub load_in_4bit: bool,
    /// A PEFT LoRA adapter folder (`adapter_config.json` + `adapter_model.safetensors`) for the
    /// decoder's projections: merged into dense weights at load, kept unmerged beside quantized
    /// ones (GGUF, `load_in_4bit`).
    pub adapter: Option<PathBuf>,
}

/// What to condition on: chat turns (rendered as ChatML with a generation prompt) or raw text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PromptInput {
    Chat(Vec<ChatMessage>),
    Raw(String),
}

/// One generation request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    pub prompt: PromptInput,
    /// Maximum number of new tokens (>= 1).
    pub max_tokens: usize,
    #[serde(default)]
    pub sampling: SamplingParams,
    /// Generation ends before the first occurrence of any of these strings (not included).
    #[serde(default)]
    pub stop: Vec<String>,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FinishReason {
    /// An end-of-sequence token or a stop string.
    Stop,
    /// `max_tokens` reached.
    Length,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub prompt_tokens: usize,
    /// Tokens sampled, including a final end-of-sequence token.
    pub completion_tokens: usize,
}

/// Result of one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateOutput {
    /// Generated text without the stop string and without special tokens.
    pub text: String,
    /// Generated ids (the end-of-sequence token excluded).
    pub token_ids: Vec<u32>,
    pub usage: Usage,
    pub finish_reason: FinishReason,
}

/// Score of one candidate continuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChoiceScore {
    pub text: String,
    pub token_ids: Vec<u32>,
    /// log p(token | prompt, earlier choice tokens), natural log.
    pub token_logprobs: Vec<f32>,
    /// Sum of `token_logprobs`.
    pub logprob: f32,
    /// `exp(logprob)` normalized over the given choices.
    pub probability: f32,
}

/// Result of `score_choices`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChoiceScores {
    pub choices: Vec<ChoiceScore>,
    /// Index of the choice with the highest `logprob`.
    pub best: usize,
    /// Prompt tokens plus all choice tokens; no completion tokens.
    pub usage: Usage,
}

/// Facts about a loaded model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub architecture: String,
    pub name: Option<String>,
    pub format: WeightFormat,
    /// Number of weights.
    pub parameters: u64,
    /// Weight bytes one decode step reads, in their resident encoding (`Qwen2Decoder::decode_read_bytes`).
    pub decode_read_bytes: u64,
    /// GGUF file type (e.g. `Q4_K_M`) or `none` for dense weights.
    pub quantization: String,
    pub context_length: usize,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_layers: usize,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// Activation dtype: `f32`, `f16` or `bf16`.
    pub dtype: String,
    /// The LoRA adapter loaded with the model, if any.
    pub adapter: Option<AdapterInfo>,
}

/// A LoRA adapter applied to a text model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    /// The adapter folder as given.
    pub path: String,
    pub rank: usize,
    pub alpha: f64,
    pub use_rslora: bool,
    /// The multiplier of `B·A`: `alpha / r`, or `alpha / √r` with rsLoRA.
    pub scale: f64,
    /// Adapted projections (`q_proj`, …).
    pub targets: Vec<String>,
    /// Whether the update was merged into the weights (dense) or is applied beside them (quantized).
    pub merged: bool,
}
