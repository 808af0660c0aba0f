//! JS option objects <-> `opt_native_inference` types. Pure conversions, no logic.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use opt_native_inference as core;
use opt_native_inference::numbers::{checked_seed, optional_u32};

/// Where to run the model.
#[napi(string_enum = "lowercase")]
pub enum ModelDevice {
    Cpu,
    Cuda,
}

/// Activation / dense-weight dtype. Default: `f32` on CPU, `bf16` on CUDA.
#[napi(string_enum = "lowercase")]
pub enum ModelDtype {
    F32,
    F16,
    Bf16,
}

/// Options of `Model.load`.
#[napi(object)]
pub struct LoadModelOptions {
    /// `cpu` (default) or `cuda` (needs an addon built with CUDA).
    pub device: Option<ModelDevice>,
    /// CUDA device ordinal (default 0).
    pub device_index: Option<f64>,
    pub dtype: Option<ModelDtype>,
    /// `tokenizer.json` to use; default: the one next to the weights (required for a bare GGUF file).
    pub tokenizer_path: Option<String>,
    /// Holds dense (safetensors) projection matrices 4-bit (Q4_0), quantized at load; embeddings and
    /// the output head stay dense. GGUF weights are quantized already and load as they are.
    #[napi(js_name = "loadIn4bit")]
    pub load_in_4bit: Option<bool>,
    /// A PEFT LoRA adapter folder: merged into dense weights, kept unmerged on quantized ones.
    pub adapter: Option<String>,
}

/// One chat turn.
#[napi(object)]
pub struct NativeChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

/// What to generate from: chat `messages` (rendered with the ChatML template) or a raw `prompt`; exactly one.
#[napi(object)]
pub struct NativeGenerateOptions {
    pub messages: Option<Vec<NativeChatMessage>>,
    /// Raw text, used as is (no chat template).
    pub prompt: Option<String>,
    /// Maximum number of new tokens (default 256), an integer from 1 to 2^32-1.
    pub max_tokens: Option<f64>,
    /// 0 (default) = greedy.
    pub temperature: Option<f64>,
    /// An integer from 0 to 2^32-1 (0 = off).
    pub top_k: Option<f64>,
    pub top_p: Option<f64>,
    /// 1.0 (default) = off.
    pub repetition_penalty: Option<f64>,
    /// RNG seed for sampling (default 0), an integer from 0 to 2^64-1: same seed, model and
    /// prompt give the same text.
    pub seed: Option<f64>,
    /// Generation ends before the first occurrence of any of these strings.
    pub stop: Option<Vec<String>>,
}

/// Token counts of one call.
#[napi(object)]
pub struct NativeUsage {
    pub prompt_tokens: u32,
    /// Tokens sampled, including a final end-of-sequence token.
    pub completion_tokens: u32,
}

/// Result of `generate`, `stream` and each item of `generateBatch`.
#[napi(object)]
pub struct NativeGenerateResult {
    /// Generated text without the stop string and special tokens.
    pub text: String,
    pub token_ids: Vec<u32>,
    pub usage: NativeUsage,
    /// `stop` (end-of-sequence or a stop string) or `length` (`maxTokens` reached).
    pub finish_reason: String,
}

/// The prompt and candidate continuations of `scoreChoices`.
#[napi(object)]
pub struct NativeScoreChoicesOptions {
    pub messages: Option<Vec<NativeChatMessage>>,
    pub prompt: Option<String>,
    /// Continuations to score; each is tokenized on its own.
    pub choices: Vec<String>,
}

/// One prompt of `scoreChoicesBatch`: chat `messages` or a raw `prompt`; exactly one.
#[napi(object)]
pub struct NativeScorePrompt {
    pub messages: Option<Vec<NativeChatMessage>>,
    pub prompt: Option<String>,
}

/// Several prompts scored against the same choices; the prompts' common token prefix is computed once.
#[napi(object)]
pub struct NativeScoreChoicesBatchOptions {
    pub prompts: Vec<NativeScorePrompt>,
    /// Continuations to score after every prompt; each is tokenized on its own.
    pub choices: Vec<String>,
}

/// Score of one continuation.
#[napi(object)]
pub struct NativeChoiceScore {
    pub text: String,
    pub token_ids: Vec<u32>,
    /// Natural-log probability of each token given the prompt and the earlier choice tokens.
    pub token_logprobs: Vec<f64>,
    /// Sum of `tokenLogprobs`.
    pub logprob: f64,
    /// `exp(logprob)` normalized over the choices.
    pub probability: f64,
}

/// Result of `scoreChoices`.
#[napi(object)]
pub struct NativeScoreChoicesResult {
    pub choices: Vec<NativeChoiceScore>,
    /// Index of the choice with the highest `logprob`.
    pub best: u32,
    pub usage: NativeUsage,
}

/// Facts about a loaded model.
#[napi(object)]
pub struct NativeModelInfo {
    /// `qwen2`.
    pub architecture: String,
    pub name: Option<String>,
    /// `gguf` or `safetensors`.
    pub format: String,
    /// Number of weights in the decoder.
    pub parameters: f64,
    /// Weight bytes one decode step reads, in their resident encoding (tokens/s × this = bytes/s).
    pub decode_read_bytes: f64,
    /// GGUF file type (e.g. `Q4_K_M`) or `none` for dense weights.
    pub quantization: String,
    pub context_length: u32,
    pub vocab_size: u32,
    pub hidden_size: u32,
    pub num_layers: u32,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// `f32`, `f16` or `bf16`.
    pub dtype: String,
    /// The LoRA adapter loaded with the model.
    pub adapter: Option<NativeAdapterInfo>,
}

/// A LoRA adapter applied to the model.
#[napi(object)]
pub struct NativeAdapterInfo {
    pub path: String,
    pub rank: u32,
    pub alpha: f64,
    pub use_rslora: bool,
    /// `alpha / r`, or `alpha / sqrt(r)` with rsLoRA.
    pub scale: f64,
    /// Adapted projections (`q_proj`, …).
    pub targets: Vec<String>,
    /// Merged into the weights (dense) or applied beside them (quantized).
    pub merged: bool,
}

/// `[E_BAD_INPUT] message`, the form `fromNativeError` turns back into a coded error.
pub fn bad_input(message: impl std::fmt::Display) -> Error {
    Error::new(Status::InvalidArg, format!("[E_BAD_INPUT] {message}"))
}

/// An inference error as `[E_CODE] message`.
pub fn to_napi_error(error: core::InferenceError) -> Error {
    Error::new(
        Status::GenericFailure,
        format!("[{}] {}", error.code(), error.message_line()),
    )
}

const DEFAULT_MAX_TOKENS: u32 = 256;

/// The device of a load: `cuda` with a checked ordinal, else the CPU.
pub fn to_device(device: Option<&ModelDevice>, index: Option<f64>) -> Result<core::DeviceRequest> {
    let index = optional_u32("deviceIndex", index, 0).map_err(to_napi_error)?;
    Ok(match device {
        Some(ModelDevice::Cuda) => core::DeviceRequest::Cuda(index.unwrap_or(0) as usize),
        _ => core::DeviceRequest::Cpu,
    })
}

impl From<ModelDtype> for core::DTypeRequest {
    fn from(dtype: ModelDtype) -> Self {
        match dtype {
            ModelDtype::F32 => Self::F32,
            ModelDtype::F16 => Self::F16,
            ModelDtype::Bf16 => Self::Bf16,
        }
    }
}

impl TryFrom<LoadModelOptions> for core::LoadOptions {
    type Error = Error;

    fn try_from(options: LoadModelOptions) -> Result<Self> {
        let device = to_device(options.device.as_ref(), options.device_index)?;
        Ok(core::LoadOptions {
            device,
            dtype: options.dtype.map(Into::into),
            tokenizer_path: options.tokenizer_path.map(Into::into),
            load_in_4bit: options.load_in_4bit.unwrap_or(false),
            adapter: options.adapter.map(Into::into),
        })
    }
}

fn to_prompt(
    messages: Option<Vec<NativeChatMessage>>,
    prompt: Option<String>,
) -> Result<core::PromptInput> {
    match (messages, prompt) {
        (Some(messages), None) => Ok(core::PromptInput::Chat(
            messages
                .into_iter()
                .map(|message| core::ChatMessage {
                    role: message.role,
                    content: message.content,
                })
                .collect(),
        )),
        (None, Some(prompt)) => Ok(core::PromptInput::Raw(prompt)),
        _ => Err(bad_input("pass exactly one of `messages` or `prompt`")),
    }
}

fn to_sampling(options: &NativeGenerateOptions) -> Result<core::SamplingParams> {
    let defaults = core::SamplingParams::default();
    let seed = match options.seed {
        Some(seed) => checked_seed(seed).map_err(to_napi_error)?,
        None => defaults.seed,
    };
    let top_k = optional_u32("topK", options.top_k, 0).map_err(to_napi_error)?;
    Ok(core::SamplingParams {
        temperature: options
            .temperature
            .map_or(defaults.temperature, |t| t as f32),
        top_k: top_k.map(|k| k as usize),
        top_p: options.top_p.map(|p| p as f32),
        repetition_penalty: options
            .repetition_penalty
            .map_or(defaults.repetition_penalty, |p| p as f32),
        seed,
    })
}

impl TryFrom<NativeGenerateOptions> for core::GenerateRequest {
    type Error = Error;

    fn try_from(options: NativeGenerateOptions) -> Result<Self> {
        let sampling = to_sampling(&options)?;
        let max_tokens = optional_u32("maxTokens", options.max_tokens, 1).map_err(to_napi_error)?;
        Ok(core::GenerateRequest {
            prompt: to_prompt(options.messages, options.prompt)?,
            max_tokens: max_tokens.unwrap_or(DEFAULT_MAX_TOKENS) as usize,
            sampling,
            stop: options.stop.unwrap_or_default(),
        })
    }
}

/// The prompt and choices of `scoreChoices`.
pub fn to_score_request(
    options: NativeScoreChoicesOptions,
) -> Result<(core::PromptInput, Vec<String>)> {
    Ok((
        to_prompt(options.messages, options.prompt)?,
        options.choices,
    ))
}

/// The prompts and choices of `scoreChoicesBatch`.
pub fn to_score_batch_request(
    options: NativeScoreChoicesBatchOptions,
) -> Result<(Vec<core::PromptInput>, Vec<String>)> {
    let prompts = options
        .prompts
        .into_iter()
        .map(|p| to_prompt(p.messages, p.prompt))
        .collect::<Result<Vec<_>>>()?;
    Ok((prompts, options.choices))
}

fn to_usage(usage: core::Usage) -> NativeUsage {
    NativeUsage {
        prompt_tokens: usage.prompt_tokens as u32,
        completion_tokens: usage.completion_tokens as u32,
    }
}

impl From<core::GenerateOutput> for NativeGenerateResult {
    fn from(output: core::GenerateOutput) -> Self {
        let finish_reason = match output.finish_reason {
            core::FinishReason::Stop => "stop",
            core::FinishReason::Length => "length",
        };
        NativeGenerateResult {
            text: output.text,
            token_ids: output.token_ids,
            usage: to_usage(output.usage),
            finish_reason: finish_reason.to_string(),
        }
    }
}

impl From<core::ChoiceScores> for NativeScoreChoicesResult {
    fn from(scores: core::ChoiceScores) -> Self {
        NativeScoreChoicesResult {
            choices: scores
                .choices
                .into_iter()
                .map(|choice| NativeChoiceScore {
                    text: choice.text,
                    token_ids: choice.token_ids,
                    token_logprobs: choice.token_logprobs.into_iter().map(f64::from).collect(),
                    logprob: f64::from(choice.logprob),
                    probability: f64::from(choice.probability),
                })
                .collect(),
            best: scores.best as u32,
            usage: to_usage(scores.usage),
        }
    }
}

impl From<core::ModelInfo> for NativeModelInfo {
    fn from(info: core::ModelInfo) -> Self {
        let format = match info.format {
            core::WeightFormat::Gguf => "gguf",
            core::WeightFormat::Safetensors => "safetensors",
        };
        NativeModelInfo {
            architecture: info.architecture,
            name: info.name,
            format: format.to_string(),
            parameters: info.parameters as f64,
            decode_read_bytes: info.decode_read_bytes as f64,
            quantization: info.quantization,
            context_length: info.context_length as u32,
            vocab_size: info.vocab_size as u32,
            hidden_size: info.hidden_size as u32,
            num_layers: info.num_layers as u32,
            device: info.device,
            dtype: info.dtype,
            adapter: info.adapter.map(|a| NativeAdapterInfo {
                path: a.path,
                rank: a.rank as u32,
                alpha: a.alpha,
                use_rslora: a.use_rslora,
                scale: a.scale,
                targets: a.targets,
                merged: a.merged,
            }),
        }
    }
}
