//! `AudioModel`: a Qwen2-Audio folder (weights, optional LoRA, its own tokenizer) that answers a
//! text prompt about audio clips, by generation or by label scoring. What the Node binding calls.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Tensor;
use opt_native_metrics::{LabelSet, Normalizer};
use serde::{Deserialize, Serialize};

use super::classify::{audio_prompt_pieces, clip_labels, LabelScore};
use super::model::{expand_audio_tokens, Qwen2AudioModel};
use super::tokens::audio_token_ids;
use crate::audio::decode_audio_file_prefix;
use crate::audio::logmel::{CHUNK_SECONDS, N_SAMPLES};
use crate::error::{InferenceError, Result};
use crate::loader::guarded;
use crate::score::continuation::LabelDistribution;
use crate::text_model::{as_format_error, make_device, pick_dtype};
use crate::tokenizer::TextTokenizer;
use crate::types::{DTypeRequest, DeviceRequest, FinishReason, GenerateOutput, Usage};

/// Clips scored in one padded forward pass: bounds the memory of the (clip × label) continuation
/// batch while keeping the matmuls wide.
const SCORE_BATCH_CLIPS: usize = 8;

/// How to load a Qwen2-Audio folder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AudioLoadOptions {
    pub device: DeviceRequest,
    pub dtype: Option<DTypeRequest>,
    /// PEFT LoRA adapter folder, merged into the weights at load.
    pub lora: Option<PathBuf>,
    /// Default: the folder's own `tokenizer.json` (it must have the audio tokens).
    pub tokenizer_path: Option<PathBuf>,
}

/// One clip: 16 kHz mono samples, or a WAV/FLAC/MP3/OGG file decoded and resampled here.
#[derive(Debug, Clone, PartialEq)]
pub enum ClipInput {
    Samples(Vec<f32>),
    File(PathBuf),
}

/// `Generate`: greedy answer, normalized to a label. `Score`: log-probability of each label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ClassifyMode {
    Generate,
    #[default]
    Score,
}

/// Options of [`AudioModel::classify`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifyOptions {
    pub labels: Vec<String>,
    pub mode: ClassifyMode,
    /// Tokens generated per clip in `Generate` mode.
    pub max_new_tokens: usize,
}

/// The answer for one clip.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClipAnswer {
    /// The label the answer means (metrics-crate normalization), `None` when unparseable.
    pub label: Option<String>,
    /// Generated text (`Generate`) or the best label (`Score`).
    pub text: String,
    /// `Score` mode: natural-log probability of each label, in label order.
    pub logprobs: Option<Vec<f32>>,
    /// `Score` mode: softmax of `logprobs` over the labels.
    pub probabilities: Option<Vec<f32>>,
    pub usage: Usage,
    /// The clip is longer than the model's 30 s window: only its first 30 s were heard (and, for
    /// a file, decoded).
    pub truncated: bool,
}

/// One clip ready for the decoder: prompt ids with the audio placeholders expanded, the audio
/// embeddings, and whether the clip was cut to 30 s.
struct ClipPrompt {
    ids: Vec<u32>,
    audio: Tensor,
    truncated: bool,
}

/// A loaded Qwen2-Audio model with its tokenizer and per-clip encoder cache.
pub struct AudioModel {
    model: Qwen2AudioModel,
    tokenizer: TextTokenizer,
}

impl AudioModel {
    /// Loads `dir` (config.json, safetensors, tokenizer.json). `E_MODEL_NOT_FOUND`,
    /// `E_MODEL_FORMAT` or `E_TOKENIZER` on bad input.
    pub fn load(dir: &Path, opts: &AudioLoadOptions) -> Result<Self> {
        if !dir.is_dir() {
            return Err(InferenceError::ModelNotFound {
                path: dir.to_path_buf(),
                reason: "not a Qwen2-Audio model folder".into(),
            });
        }
        let tokenizer_path = opts
            .tokenizer_path
            .clone()
            .unwrap_or_else(|| dir.join("tokenizer.json"));
        let tokenizer = TextTokenizer::from_file(&tokenizer_path)?;
        let device = make_device(opts.device)?;
        let dtype = pick_dtype(opts.dtype, &device);
        let model = guarded("safetensors", || {
            Qwen2AudioModel::load(dir, opts.lora.as_deref(), &device, dtype)
                .map_err(as_format_error)
        })?;
        audio_token_ids(&tokenizer, model.audio_token_id())?;
        let vocab = model.decoder().config().vocab_size;
        if tokenizer.vocab_size() > vocab {
            return Err(InferenceError::Tokenizer(format!(
                "tokenizer has {} tokens but the model only {vocab}",
                tokenizer.vocab_size()
            )));
        }
        Ok(Self { model, tokenizer })
    }

    /// `(hits, misses)` of the encoder cache: a hit is a clip whose encoder output was reused.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.model.cache_stats()
    }

    /// Classifies each clip under `prompt`; answers keep the clip order. Checks `cancel` between
    /// clips (`E_ABORTED`).
    pub fn classify(
        &mut self,
        clips: &[ClipInput],
        prompt: &str,
        opts: &ClassifyOptions,
        cancel: &AtomicBool,
    ) -> Result<Vec<ClipAnswer>> {
        let labels = LabelSet::from_names(opts.labels.iter().cloned())
            .map_err(|e| InferenceError::bad_input(format!("labels: {e}")))?;
        let normalizer = Normalizer::new(labels);
        let label_ids = self.label_token_ids(&opts.labels)?;
        let mut answers = Vec::with_capacity(clips.len());
        if opts.mode == ClassifyMode::Score {
            for chunk in clips.chunks(SCORE_BATCH_CLIPS) {
                check_cancel(cancel)?;
                let clip_prompts = chunk
                    .iter()
                    .map(|clip| self.clip_prompt(clip, prompt))
                    .collect::<Result<Vec<_>>>()?;
                let truncated: Vec<bool> = clip_prompts.iter().map(|c| c.truncated).collect();
                let prompts: Vec<(Vec<u32>, Tensor)> =
                    clip_prompts.into_iter().map(|c| (c.ids, c.audio)).collect();
                let scores = self.model.score_labels_batch(&prompts, &label_ids)?;
                for (((ids, _), scores), truncated) in prompts.iter().zip(scores).zip(truncated) {
                    let mut answer = score_answer(ids.len(), &scores, &opts.labels, &label_ids);
                    answer.truncated = truncated;
                    answers.push(answer);
                }
            }
            return Ok(answers);
        }
        for clip in clips {
            check_cancel(cancel)?;
            let ClipPrompt {
                ids,
                audio,
                truncated,
            } = self.clip_prompt(clip, prompt)?;
            let output = self.generate_ids(&ids, audio, opts.max_new_tokens)?;
            let label = normalizer
                .normalize(&output.text)
                .map(|i| opts.labels[i].clone());
            answers.push(ClipAnswer {
                label,
                text: output.text,
                logprobs: None,
                probabilities: None,
                usage: output.usage,
                truncated,
            });
        }
        Ok(answers)
    }

    /// Greedy answer to `prompt` about one clip.
    pub fn generate(
        &mut self,
        clip: &ClipInput,
        prompt: &str,
        max_new_tokens: usize,
        cancel: &AtomicBool,
    ) -> Result<GenerateOutput> {
        if cancel.load(Ordering::Relaxed) {
            return Err(InferenceError::Aborted);
        }
        let clip_prompt = self.clip_prompt(clip, prompt)?;
        self.generate_ids(&clip_prompt.ids, clip_prompt.audio, max_new_tokens)
    }

    /// The expanded prompt ids of one clip and its (cached) audio embeddings.
    fn clip_prompt(&mut self, clip: &ClipInput, prompt: &str) -> Result<ClipPrompt> {
        if prompt.trim().is_empty() {
            return Err(InferenceError::bad_input("the prompt is empty"));
        }
        let (samples, truncated) = match clip {
            ClipInput::Samples(samples) => {
                check_samples(samples)?;
                let cut = samples.len() > N_SAMPLES;
                (std::borrow::Cow::Borrowed(samples.as_slice()), cut)
            }
            ClipInput::File(path) => {
                // Only the model's window is decoded: a 60-minute file costs what 30 s cost.
                let prefix = decode_audio_file_prefix(path, CHUNK_SECONDS as f64)?;
                (std::borrow::Cow::Owned(prefix.samples), prefix.truncated)
            }
        };
        let audio = self.model.audio_embeddings(&samples)?;
        let labels = clip_labels(1);
        let ids = self
            .tokenizer
            .encode_pieces(&audio_prompt_pieces(None, prompt, &labels))?;
        let ids = expand_audio_tokens(&ids, self.model.audio_token_id(), &[audio.dim(0)?])?;
        let limit = self.model.decoder().config().max_position_embeddings;
        if ids.len() > limit {
            return Err(InferenceError::bad_input(format!(
                "{} prompt tokens exceed the context length {limit}",
                ids.len()
            )));
        }
        Ok(ClipPrompt {
            ids,
            audio,
            truncated,
        })
    }

    fn label_token_ids(&self, labels: &[String]) -> Result<Vec<Vec<u32>>> {
        labels
            .iter()
            .map(|label| {
                let ids = self.tokenizer.encode_text(label)?;
                if ids.is_empty() {
                    return Err(InferenceError::bad_input("a label is empty"));
                }
                Ok(ids)
            })
            .collect()
    }

    fn generate_ids(
        &self,
        ids: &[u32],
        audio: Tensor,
        max_new_tokens: usize,
    ) -> Result<GenerateOutput> {
        if max_new_tokens == 0 {
            return Err(InferenceError::bad_input("maxNewTokens must be >= 1"));
        }
        let eos = self.tokenizer.eos_ids();
        let mut tokens = self
            .model
            .generate_greedy(ids, &[audio], max_new_tokens, eos)?;
        let completion_tokens = tokens.len();
        let finish_reason = match tokens.last() {
            Some(last) if eos.contains(last) => {
                tokens.pop();
                FinishReason::Stop
            }
            _ => FinishReason::Length,
        };
        Ok(GenerateOutput {
            text: self.tokenizer.decode(&tokens)?,
            token_ids: tokens,
            usage: Usage {
                prompt_tokens: ids.len(),
                completion_tokens,
            },
            finish_reason,
        })
    }
}

fn check_cancel(cancel: &AtomicBool) -> Result<()> {
    if cancel.load(Ordering::Relaxed) {
        return Err(InferenceError::Aborted);
    }
    Ok(())
}

/// The answer of label scoring: the most likely label, log-probs and their softmax.
fn score_answer(
    prompt_tokens: usize,
    scores: &[LabelScore],
    labels: &[String],
    label_ids: &[Vec<u32>],
) -> ClipAnswer {
    let distribution = LabelDistribution::of(scores);
    let best = distribution.best;
    ClipAnswer {
        label: Some(labels[best].clone()),
        text: labels[best].clone(),
        logprobs: Some(scores.iter().map(|s| s.logprob).collect()),
        probabilities: Some(distribution.probabilities),
        usage: Usage {
            prompt_tokens: prompt_tokens + label_ids.iter().map(Vec::len).sum::<usize>(),
            completion_tokens: 0,
        },
        truncated: false,
    }
}

/// Refuses sample buffers the encoder cannot use.
fn check_samples(samples: &[f32]) -> Result<()> {
    if samples.is_empty() {
        return Err(InferenceError::BadAudio("the clip has no samples".into()));
    }
    if samples.iter().any(|s| !s.is_finite()) {
        return Err(InferenceError::BadAudio(
            "the clip has NaN or infinite samples".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::continuation::{argmax, softmax};

    #[test]
    fn softmax_and_argmax_of_label_logprobs() {
        let p = softmax(&[(0.25f32).ln(), (0.75f32).ln()]);
        assert!((p[0] - 0.25).abs() < 1e-6 && (p[1] - 0.75).abs() < 1e-6);
        assert_eq!(argmax(&[-3.0, -0.5, -2.0]), 1);
    }

    #[test]
    fn empty_or_non_finite_samples_are_bad_audio() {
        assert_eq!(check_samples(&[]).unwrap_err().code(), "E_BAD_AUDIO");
        assert_eq!(
            check_samples(&[0.0, f32::NAN]).unwrap_err().code(),
            "E_BAD_AUDIO"
        );
        assert!(check_samples(&[0.0, 0.1]).is_ok());
    }
}
