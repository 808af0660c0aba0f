//! `Model`: a Qwen2/Qwen2.5 text model loaded once; every call runs on the libuv pool.

mod convert;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use opt_native_inference as core;
use opt_native_inference::TextModel;

use crate::holder::{with_model, DisposeTask, LoadTask, LoadedModel, ModelHolder, SharedModel};

pub use convert::*;

/// A per-call flag the core polls between tokens; an `AbortSignal` sets it.
pub(crate) type CancelFlag = Arc<AtomicBool>;

/// Called with each new piece of text as soon as it is final.
pub type TokenCallback = ThreadsafeFunction<String, (), String, Status, false>;

/// A fresh cancel flag, set when `signal` aborts (the signal also cancels a task that has not started).
pub(crate) fn cancel_flag(signal: Option<&AbortSignal>) -> CancelFlag {
    let flag = CancelFlag::default();
    if let Some(signal) = signal {
        let on_abort = flag.clone();
        signal.on_abort(move || on_abort.store(true, Ordering::Relaxed));
    }
    flag
}

/// A Qwen2 / Qwen2.5 text model (GGUF file or HF folder) with its tokenizer, loaded once.
/// Calls run one at a time on the libuv thread pool, so the event loop stays free.
#[napi]
pub struct Model {
    holder: ModelHolder<TextModel>,
    info: core::ModelInfo,
}

impl LoadedModel for TextModel {
    type Options = core::LoadOptions;
    type Class = Model;

    fn load(path: &Path, options: &Self::Options) -> core::Result<Self> {
        TextModel::load(path, options)
    }

    fn into_class(self) -> Model {
        Model {
            info: self.info(),
            holder: ModelHolder::new(self),
        }
    }
}

impl Model {
    /// `generate` and `stream` differ only in whether pieces are pushed to `on_token`.
    fn generate_task(
        &self,
        options: NativeGenerateOptions,
        on_token: Option<TokenCallback>,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<GenerateTask>> {
        let task = GenerateTask {
            model: self.holder.live()?,
            request: options.try_into()?,
            cancel: cancel_flag(signal.as_ref()),
            on_token,
        };
        Ok(AsyncTask::with_optional_signal(task, signal))
    }
}

#[napi]
impl Model {
    /// Loads a `.gguf` file or an HF folder (config.json + safetensors + tokenizer.json).
    /// Rejects with `[E_MODEL_NOT_FOUND]`, `[E_MODEL_FORMAT]` or `[E_TOKENIZER]`.
    #[napi(ts_return_type = "Promise<Model>")]
    pub fn load(
        path: String,
        options: Option<LoadModelOptions>,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<LoadTask<TextModel>>> {
        let options = options
            .map(core::LoadOptions::try_from)
            .transpose()?
            .unwrap_or_default();
        Ok(AsyncTask::with_optional_signal(
            LoadTask::new(path, options),
            signal,
        ))
    }

    /// Architecture, size, quantization, context length, vocabulary, device and dtype.
    #[napi]
    pub fn info(&self) -> Result<NativeModelInfo> {
        self.holder.ensure_live()?;
        Ok(self.info.clone().into())
    }

    /// Generates a completion. Rejects with `[E_ABORTED]` when `signal` aborts.
    #[napi(ts_return_type = "Promise<NativeGenerateResult>")]
    pub fn generate(
        &self,
        options: NativeGenerateOptions,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<GenerateTask>> {
        self.generate_task(options, None, signal)
    }

    /// Like `generate`, calling `onToken` with each new piece of text as it is produced.
    #[napi(ts_return_type = "Promise<NativeGenerateResult>")]
    pub fn stream(
        &self,
        options: NativeGenerateOptions,
        on_token: TokenCallback,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<GenerateTask>> {
        self.generate_task(options, Some(on_token), signal)
    }

    /// Generates for several requests in one padded batch; results keep the input order.
    #[napi(ts_return_type = "Promise<NativeGenerateResult[]>")]
    pub fn generate_batch(
        &self,
        requests: Vec<NativeGenerateOptions>,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<GenerateBatchTask>> {
        let model = self.holder.live()?;
        let requests = requests
            .into_iter()
            .map(core::GenerateRequest::try_from)
            .collect::<Result<Vec<_>>>()?;
        let task = GenerateBatchTask {
            model,
            requests,
            cancel: cancel_flag(signal.as_ref()),
        };
        Ok(AsyncTask::with_optional_signal(task, signal))
    }

    /// Log-probabilities of each choice as a continuation of the prompt, and their softmax.
    #[napi(ts_return_type = "Promise<NativeScoreChoicesResult>")]
    pub fn score_choices(
        &self,
        options: NativeScoreChoicesOptions,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<ScoreChoicesTask>> {
        let model = self.holder.live()?;
        let (prompt, choices) = to_score_request(options)?;
        let task = ScoreChoicesTask {
            model,
            prompt,
            choices,
            cancel: cancel_flag(signal.as_ref()),
        };
        Ok(AsyncTask::with_optional_signal(task, signal))
    }

    /// Scores several prompts against the same choices in one call, computing the prompts' longest common token
    /// prefix once; each result equals `scoreChoices` of that prompt. Results keep the prompt order.
    #[napi(ts_return_type = "Promise<NativeScoreChoicesResult[]>")]
    pub fn score_choices_batch(
        &self,
        options: NativeScoreChoicesBatchOptions,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<ScoreChoicesBatchTask>> {
        let model = self.holder.live()?;
        let (prompts, choices) = to_score_batch_request(options)?;
        let task = ScoreChoicesBatchTask {
            model,
            prompts,
            choices,
            cancel: cancel_flag(signal.as_ref()),
        };
        Ok(AsyncTask::with_optional_signal(task, signal))
    }

    /// Token ids of `text` (special-token strings such as `<|im_start|>` map to their ids).
    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn tokenize(&self, text: String) -> Result<AsyncTask<TokenizeTask>> {
        let model = self.holder.live()?;
        Ok(AsyncTask::new(TokenizeTask { model, text }))
    }

    /// Number of tokens of `text`.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn count_tokens(&self, text: String) -> Result<AsyncTask<CountTokensTask>> {
        let model = self.holder.live()?;
        Ok(AsyncTask::new(CountTokensTask { model, text }))
    }

    /// Frees the weights once running calls finish; later calls reject with `[E_MODEL_DISPOSED]`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn dispose(&self) -> AsyncTask<DisposeTask<TextModel>> {
        self.holder.dispose()
    }
}

pub struct GenerateTask {
    model: SharedModel<TextModel>,
    request: core::GenerateRequest,
    cancel: CancelFlag,
    on_token: Option<TokenCallback>,
}

#[napi]
impl Task for GenerateTask {
    type Output = core::GenerateOutput;
    type JsValue = NativeGenerateResult;

    fn compute(&mut self) -> Result<Self::Output> {
        let on_token = self.on_token.as_ref();
        let mut send = |piece: &str| {
            if let Some(callback) = on_token {
                callback.call(piece.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
            }
        };
        with_model(&self.model, |model| {
            model.generate(&self.request, &mut send, &self.cancel)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into())
    }
}

pub struct GenerateBatchTask {
    model: SharedModel<TextModel>,
    requests: Vec<core::GenerateRequest>,
    cancel: CancelFlag,
}

#[napi]
impl Task for GenerateBatchTask {
    type Output = Vec<core::GenerateOutput>;
    type JsValue = Vec<NativeGenerateResult>;

    fn compute(&mut self) -> Result<Self::Output> {
        with_model(&self.model, |model| {
            model.generate_batch(&self.requests, &self.cancel)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into_iter().map(Into::into).collect())
    }
}

pub struct ScoreChoicesTask {
    model: SharedModel<TextModel>,
    prompt: core::PromptInput,
    choices: Vec<String>,
    cancel: CancelFlag,
}

#[napi]
impl Task for ScoreChoicesTask {
    type Output = core::ChoiceScores;
    type JsValue = NativeScoreChoicesResult;

    fn compute(&mut self) -> Result<Self::Output> {
        with_model(&self.model, |model| {
            model.score_choices(&self.prompt, &self.choices, &self.cancel)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into())
    }
}

pub struct ScoreChoicesBatchTask {
    model: SharedModel<TextModel>,
    prompts: Vec<core::PromptInput>,
    choices: Vec<String>,
    cancel: CancelFlag,
}

#[napi]
impl Task for ScoreChoicesBatchTask {
    type Output = Vec<core::ChoiceScores>;
    type JsValue = Vec<NativeScoreChoicesResult>;

    fn compute(&mut self) -> Result<Self::Output> {
        with_model(&self.model, |model| {
            model.score_choices_batch(&self.prompts, &self.choices, &self.cancel)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into_iter().map(Into::into).collect())
    }
}

pub struct TokenizeTask {
    model: SharedModel<TextModel>,
    text: String,
}

#[napi]
impl Task for TokenizeTask {
    type Output = Vec<u32>;
    type JsValue = Vec<u32>;

    fn compute(&mut self) -> Result<Self::Output> {
        with_model(&self.model, |model| model.tokenize(&self.text))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}

pub struct CountTokensTask {
    model: SharedModel<TextModel>,
    text: String,
}

#[napi]
impl Task for CountTokensTask {
    type Output = u32;
    type JsValue = u32;

    fn compute(&mut self) -> Result<Self::Output> {
        with_model(&self.model, |model| model.count_tokens(&self.text)).map(|n| n as u32)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output)
    }
}
