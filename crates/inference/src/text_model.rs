//! `TextModel`: a Qwen2 decoder, its tokenizer and a reusable KV cache.

use std::path::Path;

use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device};

use crate::error::{InferenceError, Result};
use crate::kv_cache::KvCache;
use crate::loader::WeightFormat;
use crate::loader::{guarded, open_weights};
use crate::qwen2::Qwen2Decoder;
use crate::text_adapter::TextAdapter;
use crate::tokenizer::{ChatMessage, TextTokenizer};
use crate::types::{DTypeRequest, DeviceRequest, LoadOptions, ModelInfo, PromptInput};
use crate::weights::{Weights, LOAD_IN_4BIT_TYPE};

/// A loaded Qwen2/Qwen2.5 text model. Not `Sync`: one call at a time (`&mut self`).
pub struct TextModel {
    pub(crate) decoder: Qwen2Decoder,
    pub(crate) tokenizer: TextTokenizer,
    pub(crate) cache: KvCache,
    info: ModelInfo,
}

impl TextModel {
    /// Loads a `.gguf` file or an HF folder (config.json, tokenizer.json, model.safetensors or a
    /// sharded index). Unsupported configs and corrupt files fail here with `E_MODEL_FORMAT`.
    pub fn load(path: &Path, opts: &LoadOptions) -> Result<Self> {
        let device = make_device(opts.device)?;
        let dtype = pick_dtype(opts.dtype, &device);
        let opened = open_weights(path, &device, dtype)?;
        let tokenizer_path = opts
            .tokenizer_path
            .clone()
            .or(opened.tokenizer_beside.clone())
            .ok_or_else(|| {
                InferenceError::Tokenizer(format!(
                    "no tokenizer.json next to {}; pass tokenizerPath",
                    path.display()
                ))
            })?;
        let tokenizer = TextTokenizer::from_file(&tokenizer_path)?;
        if tokenizer.vocab_size() > opened.config.vocab_size {
            return Err(InferenceError::Tokenizer(format!(
                "tokenizer has {} tokens but the model only {}",
                tokenizer.vocab_size(),
                opened.config.vocab_size
            )));
        }
        let quantize = quantize_at_load(opts, opened.format);
        let adapter = opts
            .adapter
            .as_deref()
            .map(|dir| TextAdapter::load(dir, &opened.config))
            .transpose()?;
        let decoder = guarded("weights", || {
            let weights = Weights::new(&opened.source, dtype)
                .quantizing_dense(quantize)
                .with_adapter(adapter.as_ref());
            Qwen2Decoder::new(&opened.config, &weights, dtype, &device).map_err(as_format_error)
        })?;
        // Only dense weights take the update in (quantized ones keep it beside them).
        let merged = opened.format == WeightFormat::Safetensors && quantize.is_none();
        let cfg = &opened.config;
        let info = ModelInfo {
            architecture: "qwen2".to_string(),
            name: opened.name.clone(),
            format: opened.format,
            parameters: decoder.param_count() as u64,
            decode_read_bytes: decoder.decode_read_bytes() as u64,
            quantization: quantize.map_or(opened.quantization.clone(), |q| format!("{q:?}")),
            context_length: cfg.max_position_embeddings,
            vocab_size: cfg.vocab_size,
            hidden_size: cfg.hidden_size,
            num_layers: cfg.num_layers,
            device: device_name(opts.device),
            dtype: dtype_name(dtype).to_string(),
            adapter: adapter.map(|a| a.info(merged)),
        };
        let cache = decoder.new_cache();
        Ok(Self {
            decoder,
            tokenizer,
            cache,
            info,
        })
    }

    /// Architecture, size, quantization, context length, vocabulary, device and dtype.
    pub fn info(&self) -> ModelInfo {
        self.info.clone()
    }

    /// Text -> token ids (special-token strings such as `<|im_start|>` map to their ids).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        self.tokenizer.encode(text)
    }

    /// Number of tokens of `text`.
    pub fn count_tokens(&self, text: &str) -> Result<usize> {
        Ok(self.tokenizer.encode(text)?.len())
    }

    /// Token ids -> text (special tokens skipped).
    pub fn detokenize(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer.decode(ids)
    }

    /// ChatML prompt ending with `<|im_start|>assistant\n`; adds the default system prompt
    /// (from tokenizer_config.json, else "You are a helpful assistant.") when none is given.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> String {
        self.tokenizer.render_chat(messages)
    }

    /// The prompt ids of a chat: contents and roles are plain text (a `<|im_end|>` inside a
    /// message is ordinary tokens), only the template emits control tokens.
    pub fn chat_ids(&self, messages: &[ChatMessage]) -> Result<Vec<u32>> {
        self.tokenizer.encode_chat(messages)
    }

    /// The low-level decoder, for callers that build their own inputs (e.g. Qwen2-Audio).
    pub fn decoder(&self) -> &Qwen2Decoder {
        &self.decoder
    }

    /// Prompt -> ids; refuses empty prompts.
    pub(crate) fn prompt_ids(&self, prompt: &PromptInput) -> Result<Vec<u32>> {
        let ids = match prompt {
            PromptInput::Chat(messages) => self.chat_ids(messages)?,
            // A raw prompt is the caller's own template: its special-token strings are meant.
            PromptInput::Raw(text) => self.tokenizer.encode(text)?,
        };
        if ids.is_empty() {
            return Err(InferenceError::bad_input("prompt is empty"));
        }
        Ok(ids)
    }

    /// Refuses sequences longer than the model's context.
    pub(crate) fn check_length(&self, tokens: usize) -> Result<()> {
        let limit = self.decoder.config().max_position_embeddings;
        if tokens > limit {
            return Err(InferenceError::bad_input(format!(
                "{tokens} tokens exceed the context length {limit}"
            )));
        }
        Ok(())
    }
}

/// Tensor failures while building the model mean the weights do not fit the config.
pub(crate) fn as_format_error(err: InferenceError) -> InferenceError {
    match err {
        InferenceError::Runtime(msg) => InferenceError::ModelFormat(msg),
        other => other,
    }
}

/// The type dense weights are quantized to at load: only for `load_in_4bit` on safetensors.
fn quantize_at_load(opts: &LoadOptions, format: WeightFormat) -> Option<GgmlDType> {
    (opts.load_in_4bit && format == WeightFormat::Safetensors).then_some(LOAD_IN_4BIT_TYPE)
}

/// Whether this build has candle's CUDA backend (the `cuda` feature); says nothing of a GPU.
pub fn cuda_available() -> bool {
    candle_core::utils::cuda_is_available()
}

pub(crate) fn make_device(request: DeviceRequest) -> Result<Device> {
    match request {
        DeviceRequest::Cpu => Ok(Device::Cpu),
        DeviceRequest::Cuda(_) if !cuda_available() => Err(InferenceError::bad_input(
            "CUDA requested, but this build has no CUDA support (build with the `cuda` feature)",
        )),
        DeviceRequest::Cuda(ordinal) => Device::new_cuda(ordinal).map_err(|e| {
            InferenceError::bad_input(format!("CUDA device {ordinal} unavailable: {e}"))
        }),
    }
}

pub(crate) fn pick_dtype(request: Option<DTypeRequest>, device: &Device) -> DType {
    match request {
        Some(DTypeRequest::F32) => DType::F32,
        Some(DTypeRequest::F16) => DType::F16,
        Some(DTypeRequest::Bf16) => DType::BF16,
        None if device.is_cuda() => DType::BF16,
        None => DType::F32,
    }
}

pub(crate) fn device_name(request: DeviceRequest) -> String {
    match request {
        DeviceRequest::Cpu => "cpu".to_string(),
        DeviceRequest::Cuda(i) => format!("cuda:{i}"),
    }
}

pub(crate) fn dtype_name(dtype: DType) -> &'static str {
    match dtype {
        DType::F16 => "f16",
        DType::BF16 => "bf16",
        _ => "f32",
    }
}
