//! `AudioModel`: a Qwen2-Audio model loaded once; classify/generate run on the libuv pool.

use std::path::{Path, PathBuf};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use opt_native_inference as core;
use opt_native_inference::numbers::optional_u32;
use opt_native_inference::qwen2_audio::{
    AudioLoadOptions, AudioModel as CoreAudioModel, ClassifyMode, ClassifyOptions, ClipAnswer,
    ClipInput,
};

use crate::holder::{with_model, DisposeTask, LoadTask, LoadedModel, ModelHolder, SharedModel};
use crate::model::{
    cancel_flag, to_device, to_napi_error, CancelFlag, ModelDevice, ModelDtype,
    NativeGenerateResult, NativeUsage,
};

type SharedAudioModel = SharedModel<CoreAudioModel>;

const DEFAULT_MAX_NEW_TOKENS: u32 = 8;

/// Options of `AudioModel.load`.
#[napi(object)]
pub struct LoadAudioModelOptions {
    /// `cpu` (default) or `cuda` (needs an addon built with CUDA).
    pub device: Option<ModelDevice>,
    /// CUDA device ordinal (default 0).
    pub device_index: Option<f64>,
    pub dtype: Option<ModelDtype>,
    /// PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors), merged at load.
    pub lora: Option<String>,
    /// Default: the model folder's own tokenizer.json, which must have `<|AUDIO|>`,
    /// `<|audio_bos|>` and `<|audio_eos|>`.
    pub tokenizer_path: Option<String>,
}

/// `generate`: greedy answer normalized to a label. `score`: log-probability of each label.
#[napi(string_enum = "lowercase")]
pub enum AudioClassifyMode {
    Generate,
    Score,
}

/// Options of `classify`.
#[napi(object)]
pub struct NativeClassifyOptions {
    /// Label names, e.g. `['SPEECH', 'NON-SPEECH']`.
    pub labels: Vec<String>,
    /// `score` (default) or `generate`.
    pub mode: Option<AudioClassifyMode>,
    /// Tokens generated per clip in `generate` mode (default 8), from 1 to 2^32-1.
    pub max_new_tokens: Option<f64>,
}

/// Options of `generate`.
#[napi(object)]
pub struct NativeAudioGenerateOptions {
    /// Maximum number of new tokens (default 8), from 1 to 2^32-1.
    pub max_new_tokens: Option<f64>,
}

/// The answer for one clip.
#[napi(object)]
pub struct NativeClipAnswer {
    /// The label the answer means; absent when the answer names none (or contradicts itself).
    pub label: Option<String>,
    /// Generated text (`generate`) or the best label (`score`).
    pub text: String,
    /// `score` mode: natural-log probability of each label, in label order.
    pub logprobs: Option<Vec<f64>>,
    /// `score` mode: softmax of `logprobs` over the labels.
    pub probabilities: Option<Vec<f64>>,
    pub usage: NativeUsage,
    /// The clip was longer than the model's 30 s window: only its first 30 s were heard (a file is
    /// decoded no further).
    pub truncated: bool,
}

/// Hits and misses of the per-clip encoder cache (keyed by a hash of the samples).
#[napi(object)]
pub struct NativeAudioCacheStats {
    /// Clips whose encoder output was reused.
    pub hits: f64,
    /// Clips that ran the audio encoder.
    pub misses: f64,
}

/// A Qwen2-Audio model folder (weights, optional LoRA, its tokenizer), loaded once. Calls run one
/// at a time on the libuv pool; encoder outputs are cached per clip across calls.
#[napi]
pub struct AudioModel {
    holder: ModelHolder<CoreAudioModel>,
}

impl LoadedModel for CoreAudioModel {
    type Options = AudioLoadOptions;
    type Class = AudioModel;

    fn load(path: &Path, options: &Self::Options) -> core::Result<Self> {
        CoreAudioModel::load(path, options)
    }

    fn into_class(self) -> AudioModel {
        AudioModel {
            holder: ModelHolder::new(self),
        }
    }
}

#[napi]
impl AudioModel {
    /// Loads an HF Qwen2-Audio folder. Rejects with `[E_MODEL_NOT_FOUND]`, `[E_MODEL_FORMAT]` or
    /// `[E_TOKENIZER]` (a tokenizer without the audio tokens).
    #[napi(ts_return_type = "Promise<AudioModel>")]
    pub fn load(
        path: String,
        options: Option<LoadAudioModelOptions>,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<LoadTask<CoreAudioModel>>> {
        let options = options
            .map(to_load_options)
            .transpose()?
            .unwrap_or_default();
        Ok(AsyncTask::with_optional_signal(
            LoadTask::new(path, options),
            signal,
        ))
    }

    /// Classifies each clip (16 kHz mono `Float32Array`, or an audio file path decoded natively)
    /// under `prompt`. Answers keep the clip order. Rejects with `[E_BAD_AUDIO]`, `[E_ABORTED]`, ...
    #[napi(ts_return_type = "Promise<NativeClipAnswer[]>")]
    pub fn classify(
        &self,
        clips: Vec<Either<Float32Array, String>>,
        prompt: String,
        options: NativeClassifyOptions,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<ClassifyTask>> {
        let model = self.holder.live()?;
        let options = to_classify_options(options)?;
        let task = ClassifyTask {
            model,
            clips: clips.into_iter().map(to_clip).collect(),
            prompt,
            options,
            cancel: cancel_flag(signal.as_ref()),
        };
        Ok(AsyncTask::with_optional_signal(task, signal))
    }

    /// Greedy answer to `prompt` about one clip.
    #[napi(ts_return_type = "Promise<NativeGenerateResult>")]
    pub fn generate(
        &self,
        clip: Either<Float32Array, String>,
        prompt: String,
        options: Option<NativeAudioGenerateOptions>,
        signal: Option<AbortSignal>,
    ) -> Result<AsyncTask<AudioGenerateTask>> {
        let model = self.holder.live()?;
        let max_new_tokens =
            checked_max_new_tokens(options.and_then(|o| o.max_new_tokens))? as usize;
        let task = AudioGenerateTask {
            model,
            clip: to_clip(clip),
            prompt,
            max_new_tokens,
            cancel: cancel_flag(signal.as_ref()),
        };
        Ok(AsyncTask::with_optional_signal(task, signal))
    }

    /// Encoder-cache hits and misses since load.
    #[napi(ts_return_type = "Promise<NativeAudioCacheStats>")]
    pub fn cache_stats(&self) -> Result<AsyncTask<CacheStatsTask>> {
        Ok(AsyncTask::new(CacheStatsTask {
            model: self.holder.live()?,
        }))
    }

    /// Frees the weights once running calls finish; later calls reject with `[E_MODEL_DISPOSED]`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn dispose(&self) -> AsyncTask<DisposeTask<CoreAudioModel>> {
        self.holder.dispose()
    }
}

fn to_load_options(options: LoadAudioModelOptions) -> Result<AudioLoadOptions> {
    let device = to_device(options.device.as_ref(), options.device_index)?;
    Ok(AudioLoadOptions {
        device,
        dtype: options.dtype.map(Into::into),
        lora: options.lora.map(PathBuf::from),
        tokenizer_path: options.tokenizer_path.map(PathBuf::from),
    })
}

/// A checked `maxNewTokens` (default 8).
fn checked_max_new_tokens(value: Option<f64>) -> Result<u32> {
    let checked = optional_u32("maxNewTokens", value, 1).map_err(to_napi_error)?;
    Ok(checked.unwrap_or(DEFAULT_MAX_NEW_TOKENS))
}

fn to_classify_options(options: NativeClassifyOptions) -> Result<ClassifyOptions> {
    let max_new_tokens = checked_max_new_tokens(options.max_new_tokens)?;
    Ok(ClassifyOptions {
        labels: options.labels,
        mode: match options.mode {
            Some(AudioClassifyMode::Generate) => ClassifyMode::Generate,
            _ => ClassifyMode::Score,
        },
        max_new_tokens: max_new_tokens as usize,
    })
}

fn to_clip(clip: Either<Float32Array, String>) -> ClipInput {
    match clip {
        Either::A(samples) => ClipInput::Samples(samples.to_vec()),
        Either::B(path) => ClipInput::File(PathBuf::from(path)),
    }
}

fn to_f64s(values: Option<Vec<f32>>) -> Option<Vec<f64>> {
    values.map(|v| v.into_iter().map(f64::from).collect())
}

impl From<ClipAnswer> for NativeClipAnswer {
    fn from(answer: ClipAnswer) -> Self {
        NativeClipAnswer {
            label: answer.label,
            text: answer.text,
            logprobs: to_f64s(answer.logprobs),
            probabilities: to_f64s(answer.probabilities),
            usage: NativeUsage {
                prompt_tokens: answer.usage.prompt_tokens as u32,
                completion_tokens: answer.usage.completion_tokens as u32,
            },
            truncated: answer.truncated,
        }
    }
}

pub struct ClassifyTask {
    model: SharedAudioModel,
    clips: Vec<ClipInput>,
    prompt: String,
    options: ClassifyOptions,
    cancel: CancelFlag,
}

#[napi]
impl Task for ClassifyTask {
    type Output = Vec<ClipAnswer>;
    type JsValue = Vec<NativeClipAnswer>;

    fn compute(&mut self) -> Result<Self::Output> {
        with_model(&self.model, |model| {
            model.classify(&self.clips, &self.prompt, &self.options, &self.cancel)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into_iter().map(Into::into).collect())
    }
}

pub struct AudioGenerateTask {
    model: SharedAudioModel,
    clip: ClipInput,
    prompt: String,
    max_new_tokens: usize,
    cancel: CancelFlag,
}

#[napi]
impl Task for AudioGenerateTask {
    type Output = core::GenerateOutput;
    type JsValue = NativeGenerateResult;

    fn compute(&mut self) -> Result<Self::Output> {
        with_model(&self.model, |model| {
            model.generate(&self.clip, &self.prompt, self.max_new_tokens, &self.cancel)
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(output.into())
    }
}

pub struct CacheStatsTask {
    model: SharedAudioModel,
}

#[napi]
impl Task for CacheStatsTask {
    type Output = (u64, u64);
    type JsValue = NativeAudioCacheStats;

    fn compute(&mut self) -> Result<Self::Output> {
        with_model(&self.model, |model| Ok(model.cache_stats()))
    }

    fn resolve(&mut self, _env: Env, (hits, misses): Self::Output) -> Result<Self::JsValue> {
        Ok(NativeAudioCacheStats {
            hits: hits as f64,
            misses: misses as f64,
        })
    }
}
