//! Qwen2-Audio for conditional generation: audio encoder + projector, whose outputs replace the
//! expanded `<|AUDIO|>` positions of the prompt's token embeddings, fed to the shared Qwen2 decoder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::audio_encoder::AudioEncoder;
use super::config::{encoder_output_lengths, Qwen2AudioConfig};
use super::embedding_cache::{clip_hash, AudioEmbeddingCache};
use crate::audio::logmel::CHUNK_SECONDS;
use crate::audio::{decode_audio_file_prefix, LogMelExtractor};
use crate::config::HfQwen2Config;
use crate::error::{InferenceError, Result};
use crate::kv_cache::KvCache;
use crate::loader::{mmap_safetensors, read_config, safetensors_files};
use crate::lora::LoraAdapter;
use crate::mask::BatchLayout;
use crate::qwen2::{DecoderInput, Qwen2Decoder};
use crate::weights::{WeightSource, Weights};

/// Clips whose encoder outputs stay cached.
const DEFAULT_CACHE_CLIPS: usize = 64;

pub struct Qwen2AudioModel {
    encoder: AudioEncoder,
    decoder: Qwen2Decoder,
    extractor: LogMelExtractor,
    audio_token_id: u32,
    cache: AudioEmbeddingCache,
}

impl Qwen2AudioModel {
    /// Loads an HF folder (`config.json`, `model.safetensors` or shards) through the text model's
    /// loader checks and, optionally, a PEFT LoRA adapter folder merged into the weights.
    pub fn load(
        dir: &Path,
        adapter_dir: Option<&Path>,
        device: &Device,
        dtype: DType,
    ) -> Result<Self> {
        let cfg =
            Qwen2AudioConfig::from_json(&read_config(dir)?).map_err(InferenceError::format)?;
        let files = safetensors_files(dir)?;
        let vb = match adapter_dir {
            None => mmap_safetensors(&files, dtype, device)?,
            Some(adapter_dir) => {
                let adapter = LoraAdapter::load(adapter_dir)?;
                let mut tensors = load_tensors(&files, device)?;
                adapter.merge_into(&mut tensors)?;
                VarBuilder::from_tensors(tensors, dtype, device)
            }
        };
        Self::new(&cfg, vb, dtype, device)
    }

    /// Builds the model from a var-builder rooted at the checkpoint's top level.
    pub fn new(
        cfg: &Qwen2AudioConfig,
        vb: VarBuilder<'static>,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let encoder = AudioEncoder::new(&cfg.audio_config, cfg.text_hidden_size(), vb.clone())?;
        let text_cfg: HfQwen2Config = serde_json::from_value(cfg.text_config.clone())
            .map_err(|e| InferenceError::format(format!("config.json text_config: {e}")))?;
        let decoder_cfg = text_cfg.to_decoder_config()?;
        if decoder_cfg.hidden_size != cfg.text_hidden_size() {
            return Err(InferenceError::format(
                "text_config.hidden_size is inconsistent",
            ));
        }
        if cfg.audio_token_index as usize >= decoder_cfg.vocab_size {
            return Err(InferenceError::format(
                "audio_token_index is outside the vocabulary",
            ));
        }
        let source = WeightSource::Dense(vb);
        let weights = Weights::new(&source, dtype).pp("language_model");
        let decoder = Qwen2Decoder::new(&decoder_cfg, &weights, dtype, device)?;
        Ok(Self {
            extractor: LogMelExtractor::new(cfg.audio_config.num_mel_bins)?,
            encoder,
            decoder,
            audio_token_id: cfg.audio_token_index,
            cache: AudioEmbeddingCache::new(DEFAULT_CACHE_CLIPS),
        })
    }

    pub fn decoder(&self) -> &Qwen2Decoder {
        &self.decoder
    }

    pub fn audio_token_id(&self) -> u32 {
        self.audio_token_id
    }

    /// `(hits, misses)` of the per-clip encoder cache.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.cache.stats()
    }

    /// Projected audio embeddings `(n_audio_tokens, hidden)` of 16 kHz mono samples; computed once
    /// per distinct clip, then served from the cache.
    pub fn audio_embeddings(&mut self, samples: &[f32]) -> Result<Tensor> {
        let key = clip_hash(samples);
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        let features = self.extractor.compute(samples)?;
        let embeddings = self.encoder.encode(&features)?;
        self.cache.insert(key, embeddings.clone());
        Ok(embeddings)
    }

    /// Decodes the first 30 s of an audio file (WAV/FLAC/MP3/OGG; the rest is never decoded),
    /// then as [`Self::audio_embeddings`].
    pub fn audio_embeddings_from_file(&mut self, path: &Path) -> Result<Tensor> {
        let prefix = decode_audio_file_prefix(path, CHUNK_SECONDS as f64)?;
        self.audio_embeddings(&prefix.samples)
    }

    /// Token embeddings of `ids` with the `<|AUDIO|>` positions replaced, in order, by the rows of
    /// `audio` (one tensor per clip). `(1, seq, hidden)`.
    pub fn input_embeddings(&self, ids: &[u32], audio: &[Tensor]) -> Result<Tensor> {
        let expected: usize = audio
            .iter()
            .map(|a| a.dim(0))
            .sum::<candle_core::Result<usize>>()?;
        let placeholders = ids.iter().filter(|&&t| t == self.audio_token_id).count();
        if placeholders != expected {
            return Err(InferenceError::bad_input(format!(
                "the prompt has {placeholders} <|AUDIO|> tokens but the audio gives {expected} embeddings; \
                 expand the placeholders with expand_audio_tokens"
            )));
        }
        let device = self.decoder.device();
        let text = self
            .decoder
            .embed(&Tensor::new(ids, device)?.unsqueeze(0)?)?
            .squeeze(0)?;
        if expected == 0 {
            return Ok(text.unsqueeze(0)?);
        }
        let audio = Tensor::cat(audio, 0)?.to_dtype(text.dtype())?;
        let mut pieces = Vec::new();
        let mut audio_row = 0;
        for (start, len, is_audio) in runs(ids, self.audio_token_id) {
            if is_audio {
                pieces.push(audio.narrow(0, audio_row, len)?);
                audio_row += len;
            } else {
                pieces.push(text.narrow(0, start, len)?);
            }
        }
        Ok(Tensor::cat(&pieces, 0)?.unsqueeze(0)?)
    }

    /// Runs the prompt on top of `cache`; returns final-normed hidden states `(1, seq, hidden)`.
    pub fn forward_hidden(
        &self,
        ids: &[u32],
        audio: &[Tensor],
        cache: &mut KvCache,
    ) -> Result<Tensor> {
        let embeddings = self.input_embeddings(ids, audio)?;
        let layout = BatchLayout::unpadded(1);
        self.decoder
            .forward_hidden(DecoderInput::Embeddings(&embeddings), &layout, cache)
    }

    /// Logits of every prompt position, `(seq, vocab)` f32, from a fresh cache.
    pub fn logits(&self, ids: &[u32], audio: &[Tensor]) -> Result<Tensor> {
        let mut cache = self.decoder.new_cache();
        let hidden = self.forward_hidden(ids, audio, &mut cache)?;
        self.decoder.logits(&hidden.squeeze(0)?)
    }
}

/// Replaces each single `<|AUDIO|>` by `tokens_per_clip[i]` copies (what `Qwen2AudioProcessor`
/// does to the text). Ids already expanded (as many placeholders as audio tokens) pass through.
pub fn expand_audio_tokens(
    ids: &[u32],
    audio_token_id: u32,
    tokens_per_clip: &[usize],
) -> Result<Vec<u32>> {
    let placeholders = ids.iter().filter(|&&t| t == audio_token_id).count();
    let total: usize = tokens_per_clip.iter().sum();
    if placeholders == total {
        return Ok(ids.to_vec());
    }
    if placeholders != tokens_per_clip.len() {
        return Err(InferenceError::bad_input(format!(
            "the prompt has {placeholders} <|AUDIO|> placeholders for {} clips",
            tokens_per_clip.len()
        )));
    }
    let mut clips = tokens_per_clip.iter();
    let mut out = Vec::with_capacity(ids.len() + total);
    for &id in ids {
        match (id == audio_token_id).then(|| clips.next()).flatten() {
            Some(&n) => out.extend(std::iter::repeat_n(audio_token_id, n)),
            None => out.push(id),
        }
    }
    Ok(out)
}

/// Number of audio tokens a clip of `samples` 16 kHz samples becomes.
pub fn audio_token_count(samples: usize) -> usize {
    let frames = samples
        .min(crate::audio::logmel::N_SAMPLES)
        .div_ceil(crate::audio::logmel::HOP_LENGTH);
    encoder_output_lengths(frames).1
}

/// Maximal runs `(start, len, is_audio_token)` over `ids`.
fn runs(ids: &[u32], audio_token_id: u32) -> Vec<(usize, usize, bool)> {
    let mut out: Vec<(usize, usize, bool)> = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        let is_audio = id == audio_token_id;
        match out.last_mut() {
            Some((_, len, kind)) if *kind == is_audio => *len += 1,
            _ => out.push((i, 1, is_audio)),
        }
    }
    out
}

fn load_tensors(files: &[PathBuf], device: &Device) -> Result<HashMap<String, Tensor>> {
    let mut tensors = HashMap::new();
    for file in files {
        let shard = candle_core::safetensors::load(file, device)
            .map_err(|e| InferenceError::format(format!("{}: {e}", file.display())))?;
        tensors.extend(shard);
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_placeholders_expand_per_clip_and_expanded_ids_pass_through() {
        let ids = [1, 9, 2, 9, 3];
        assert_eq!(
            expand_audio_tokens(&ids, 9, &[2, 3]).unwrap(),
            vec![1, 9, 9, 2, 9, 9, 9, 3]
        );
        let expanded = [1, 9, 9, 2];
        assert_eq!(
            expand_audio_tokens(&expanded, 9, &[2]).unwrap(),
            expanded.to_vec()
        );
        assert_eq!(
            expand_audio_tokens(&[1, 2], 9, &[2]).unwrap_err().code(),
            "E_BAD_INPUT"
        );
    }

    #[test]
    fn runs_split_text_and_audio() {
        assert_eq!(
            runs(&[1, 9, 9, 2, 3], 9),
            vec![(0, 1, false), (1, 2, true), (3, 2, false)]
        );
    }

    #[test]
    fn token_count_follows_the_processor_formula() {
        // 1 s → 100 frames → 50 → 25 tokens; 30 s and longer → 750.
        assert_eq!(audio_token_count(16_000), 25);
        assert_eq!(audio_token_count(480_000), 750);
        assert_eq!(audio_token_count(10 * 480_000), 750);
    }
}
