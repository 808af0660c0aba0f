//! `Model`: a Qwen2/Qwen2.5 text model loaded once; every call runs on the libuv pool.

mod convert;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use opt_native_inference as core;
use opt_native_inference::TextModel;

pub use convert::*;

/// The loaded model; `None` once disposed. One call at a time holds the lock.
type SharedModel = Arc<Mutex<Option<TextModel>>>;

/// A per-call flag the core polls between tokens; an `AbortSignal` sets it.
pub(crate) type CancelFlag = Arc<AtomicBool>;

/// Called with each new piece of text as soon as it is final.
pub type TokenCallback = ThreadsafeFunction<String, (), String, Status, false>;

pub(crate) fn disposed_error() -> Error {
    Error::new(
        Status::GenericFailure,
        "[E_MODEL_DISPOSED] the model was disposed; load it again",
    )
}

pub(crate) fn panic_error(payload: Box<dyn Any + Send>) -> Error {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    Error::new(
        Status::GenericFailure,
        format!("[E_NATIVE_PANIC] the native core panicked: {detail}"),
    )
}

/// Runs `work` on the model under its lock; a panic becomes `[E_NATIVE_PANIC]` instead of killing Node.
fn with_model<O>(
    model: &SharedModel,
    work: impl FnOnce(&mut TextModel) -> core::Result<O>,
) -> Result<O> {
    let mut guard = model.lock().unwrap_or_else(PoisonError::into_inner);
    let text_model = guard.as_mut().ok_or_else(disposed_error)?;
    match catch_unwind(AssertUnwindSafe(|| work(text_model))) {
        Ok(result) => result.map_err(to_napi_error),
        Err(payload) => Err(panic_error(payload)),
    }
}

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
    inner: SharedModel,
    info: core::ModelInfo,
    disposed: Arc<AtomicBool>,
}

impl Model {
    fn ensure_live(&self) -> Result<()> {
        if self.disposed.load(Ordering::Relaxed) {
            return Err(disposed_error());
        }
        Ok(())
    }

    /// `generate` and `stream` differ only in whether pieces are pushed to `on_token`.
    fn generate_task(
        &self,
        options: NativeGenerateOptions,
        on_token: Option<TokenCallback>,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<GenerateTask>> {
        self.ensure_live()?;
        let task = GenerateTask {
            model: self.inner.clone(),
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
    ) -> Result<AsyncTask<LoadTask>> {
        let options = options
            .map(core::LoadOptions::try_from)
            .transpose()?
            .unwrap_or_default();
        Ok(AsyncTask::with_optional_signal(
            LoadTask { path, options },
            signal,
        ))
    }

    /// Architecture, size, quantization, context length, vocabulary, device and dtype.
    #[napi]
    pub fn info(&self) -> Result<NativeModelInfo> {
        self.ensure_live()?;
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
        self.ensure_live()?;
        let requests = requests
            .into_iter()
            .map(core::GenerateRequest::try_from)
            .collect::<Result<Vec<_>>>()?;
        let task = GenerateBatchTask {
            model: self.inner.clone(),
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
        self.ensure_live()?;
        let (prompt, choices) = to_score_request(options)?;
        let task = ScoreChoicesTask {
            model: self.inner.clone(),
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
        self.ensure_live()?;
        let (prompts, choices) = to_score_batch_request(options)?;
        let task = ScoreChoicesBatchTask {
            model: self.inner.clone(),
            prompts,
            choices,
            cancel: cancel_flag(signal.as_ref()),
        };
        Ok(AsyncTask::with_optional_signal(task, signal))
    }

    /// Token ids of `text` (special-token strings such as `<|im_start|>` map to their ids).
    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn tokenize(&self, text: String) -> Result<AsyncTask<TokenizeTask>> {
        self.ensure_live()?;
        Ok(AsyncTask::new(TokenizeTask {
            model: self.inner.clone(),
            text,
        }))
    }

    /// Number of tokens of `text`.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn count_tokens(&self, text: String) -> Result<AsyncTask<CountTokensTask>> {
        self.ensure_live()?;
        Ok(AsyncTask::new(CountTokensTask {
            model: self.inner.clone(),
            text,
        }))
    }

    /// Frees the weights once running calls finish; later calls reject with `[E_MODEL_DISPOSED]`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn dispose(&self) -> AsyncTask<DisposeTask> {
        self.disposed.store(true, Ordering::Relaxed);
        AsyncTask::new(DisposeTask {
            model: self.inner.clone(),
        })
    }
}

pub struct LoadTask {
    path: String,
    options: core::LoadOptions,
}

#[napi]
impl Task for LoadTask {
    type Output = TextModel;
    type JsValue = Model;

    fn compute(&mut self) -> Result<Self::Output> {
        let path = std::path::Path::new(&self.path);
        match catch_unwind(AssertUnwindSafe(|| TextModel::load(path, &self.options))) {
            Ok(result) => result.map_err(to_napi_error),
            Err(payload) => Err(panic_error(payload)),
        }
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(Model {
            info: output.info(),
            inner: Arc::new(Mutex::new(Some(output))),
            disposed: Arc::default(),
        })
    }
}

pub struct GenerateTask {
    model: SharedModel,
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
    model: SharedModel,
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
    model: SharedModel,
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
    model: SharedModel,
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
    model: SharedModel,
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
    model: SharedModel,
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

pub struct DisposeTask {
    model: SharedModel,
}

#[napi]
impl Task for DisposeTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<Self::Output> {
        let mut guard = self.model.lock().unwrap_or_else(PoisonError::into_inner);
        drop(guard.take());
        core::memory::release_free_memory();
        Ok(())
    }

    fn resolve(&mut self, _env: Env, _output: Self::Output) -> Result<Self::JsValue> {
        Ok(())
    }
}
