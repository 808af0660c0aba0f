//! Audio classification two ways: greedy generation of a few tokens, and label scoring
//! (log-probability of each label continuation after one prompt prefill, all labels batched).

use candle_core::{Tensor, D};

use super::model::Qwen2AudioModel;
use crate::error::{InferenceError, Result};
use crate::mask::BatchLayout;
use crate::qwen2::DecoderInput;
use crate::tokenizer::PromptPiece;

use super::tokens::{AUDIO_BOS_TOKEN, AUDIO_EOS_TOKEN, AUDIO_TOKEN};

/// Qwen2-Audio's default system prompt (the processor's chat template adds it).
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are a helpful assistant.";

/// ChatML prompt as `Qwen2AudioProcessor`'s template renders one user turn holding `n_clips`
/// clips then `user_text`, followed by the assistant header. Each clip is one `<|AUDIO|>`
/// placeholder, to be expanded with `expand_audio_tokens` after tokenizing.
pub fn render_audio_prompt(system: Option<&str>, user_text: &str, n_clips: usize) -> String {
    let labels = clip_labels(n_clips);
    audio_prompt_pieces(system, user_text, &labels)
        .iter()
        .map(|piece| match piece {
            PromptPiece::Control(s) | PromptPiece::Text(s) => *s,
        })
        .collect()
}

/// `Audio 1: `, `Audio 2: `, … (kept apart so the pieces can borrow them).
pub(crate) fn clip_labels(n_clips: usize) -> Vec<String> {
    (1..=n_clips)
        .map(|clip| format!("Audio {clip}: "))
        .collect()
}

/// The audio prompt as template pieces: the system prompt and `user_text` are plain text.
pub(crate) fn audio_prompt_pieces<'a>(
    system: Option<&'a str>,
    user_text: &'a str,
    clip_labels: &'a [String],
) -> Vec<PromptPiece<'a>> {
    use PromptPiece::{Control, Text};
    let mut pieces = vec![
        Control("<|im_start|>"),
        Text("system\n"),
        Text(system.unwrap_or(DEFAULT_SYSTEM_PROMPT)),
        Control("<|im_end|>"),
        Text("\n"),
        Control("<|im_start|>"),
        Text("user\n"),
    ];
    for label in clip_labels {
        pieces.extend([
            Text(label),
            Control(AUDIO_BOS_TOKEN),
            Control(AUDIO_TOKEN),
            Control(AUDIO_EOS_TOKEN),
            Text("\n"),
        ]);
    }
    pieces.extend([
        Text(user_text),
        Control("<|im_end|>"),
        Text("\n"),
        Control("<|im_start|>"),
        Text("assistant\n"),
    ]);
    pieces
}

/// Log-probability of one label continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelScore {
    pub token_logprobs: Vec<f32>,
    pub logprob: f32,
}

impl Qwen2AudioModel {
    /// Greedy decoding of at most `max_new_tokens` after the (expanded) prompt; stops after any
    /// id in `stop_ids` (included in the output).
    pub fn generate_greedy(
        &self,
        ids: &[u32],
        audio: &[Tensor],
        max_new_tokens: usize,
        stop_ids: &[u32],
    ) -> Result<Vec<u32>> {
        let mut cache = self.decoder().new_cache();
        let hidden = self.forward_hidden(ids, audio, &mut cache)?;
        let mut next = self.argmax_last(&hidden)?;
        let mut out = Vec::with_capacity(max_new_tokens);
        let layout = BatchLayout::unpadded(1);
        while out.len() < max_new_tokens {
            out.push(next);
            if stop_ids.contains(&next) || out.len() == max_new_tokens {
                break;
            }
            let input = Tensor::new(&[next], self.decoder().device())?.unsqueeze(0)?;
            let hidden =
                self.decoder()
                    .forward_hidden(DecoderInput::Tokens(&input), &layout, &mut cache)?;
            next = self.argmax_last(&hidden)?;
        }
        Ok(out)
    }

    fn argmax_last(&self, hidden: &Tensor) -> Result<u32> {
        let seq = hidden.dim(1)?;
        let last = hidden.narrow(1, seq - 1, 1)?.squeeze(1)?; // (1, hidden)
        let logits = self.decoder().logits(&last)?.squeeze(0)?; // (vocab,)
        Ok(logits.argmax(D::Minus1)?.to_scalar::<u32>()?)
    }

    /// Scores each label (token ids) as a continuation of the prompt: one prefill of the prompt,
    /// then one batched forward of all labels over copies of its cache.
    pub fn score_labels(
        &self,
        ids: &[u32],
        audio: &[Tensor],
        labels: &[Vec<u32>],
    ) -> Result<Vec<LabelScore>> {
        if labels.is_empty() || labels.iter().any(Vec::is_empty) {
            return Err(InferenceError::bad_input(
                "score_labels needs non-empty labels",
            ));
        }
        let mut cache = self.decoder().new_cache();
        let hidden = self.forward_hidden(ids, audio, &mut cache)?;
        let seq = hidden.dim(1)?;
        let first = self
            .decoder()
            .logits(&hidden.narrow(1, seq - 1, 1)?.squeeze(1)?)?; // (1, vocab)
        let first: Vec<f32> = candle_nn::ops::log_softmax(&first, D::Minus1)?
            .squeeze(0)?
            .to_vec1()?;
        let rest = self.continuation_logprobs(&cache, labels)?;
        Ok(labels
            .iter()
            .zip(rest)
            .map(|(label, tail)| {
                let mut token_logprobs = vec![first[label[0] as usize]];
                token_logprobs.extend(tail);
                LabelScore {
                    logprob: token_logprobs.iter().sum(),
                    token_logprobs,
                }
            })
            .collect())
    }

    /// [`Self::score_labels`] for several clips at once: one left-padded prefill of every prompt,
    /// then one forward of every (clip, label) pair. `prompts[i]` is `(expanded ids, audio)`.
    pub fn score_labels_batch(
        &self,
        prompts: &[(Vec<u32>, Tensor)],
        labels: &[Vec<u32>],
    ) -> Result<Vec<Vec<LabelScore>>> {
        if labels.is_empty() || labels.iter().any(Vec::is_empty) {
            return Err(InferenceError::bad_input(
                "score_labels needs non-empty labels",
            ));
        }
        let lengths: Vec<usize> = prompts.iter().map(|(ids, _)| ids.len()).collect();
        let layout = BatchLayout::for_lengths(&lengths);
        let embeddings = self.left_padded_embeddings(prompts, &layout)?; // (b, width, hidden)
        let mut cache = self.decoder().new_cache();
        let hidden = self.decoder().forward_hidden(
            DecoderInput::Embeddings(&embeddings),
            &layout,
            &mut cache,
        )?;
        let seq = hidden.dim(1)?;
        let last = self
            .decoder()
            .logits(&hidden.narrow(1, seq - 1, 1)?.squeeze(1)?)?; // (b, vocab)
        let first: Vec<Vec<f32>> = candle_nn::ops::log_softmax(&last, D::Minus1)?.to_vec2()?;
        // Row r * n_labels + l continues clip r with label l.
        let rows: Vec<u32> = (0..prompts.len() as u32)
            .flat_map(|r| std::iter::repeat_n(r, labels.len()))
            .collect();
        let pair_layout = BatchLayout {
            left_pad: rows.iter().map(|&r| layout.left_pad[r as usize]).collect(),
        };
        let pair_cache = cache.select_rows(&rows, self.decoder().device())?;
        let pair_labels: Vec<Vec<u32>> = (0..rows.len())
            .map(|i| labels[i % labels.len()].clone())
            .collect();
        let mut tails = self
            .continuation_logprobs_with(pair_cache, &pair_layout, &pair_labels)?
            .into_iter();
        Ok(first
            .iter()
            .map(|first| {
                labels
                    .iter()
                    .map(|label| {
                        let mut token_logprobs = vec![first[label[0] as usize]];
                        token_logprobs.extend(tails.next().unwrap_or_default());
                        LabelScore {
                            logprob: token_logprobs.iter().sum(),
                            token_logprobs,
                        }
                    })
                    .collect()
            })
            .collect())
    }

    /// Prompt embeddings `(b, width, hidden)`, each row left-padded with zeros as `layout` says
    /// (padded slots are masked, their values never reach a real position).
    fn left_padded_embeddings(
        &self,
        prompts: &[(Vec<u32>, Tensor)],
        layout: &BatchLayout,
    ) -> Result<Tensor> {
        let mut rows = Vec::with_capacity(prompts.len());
        for ((ids, audio), &pad) in prompts.iter().zip(&layout.left_pad) {
            let row = self.input_embeddings(ids, std::slice::from_ref(audio))?; // (1, len, hidden)
            if pad == 0 {
                rows.push(row);
                continue;
            }
            let (_, _, hidden) = row.dims3()?;
            let zeros = Tensor::zeros((1, pad, hidden), row.dtype(), row.device())?;
            rows.push(Tensor::cat(&[&zeros, &row], 1)?);
        }
        Ok(Tensor::cat(&rows, 0)?)
    }

    /// Log-probs of label tokens 1.. (token 0 is scored by the prompt). Labels are right-padded
    /// with their own first token; causal masking keeps padding out of every real position.
    fn continuation_logprobs(
        &self,
        cache: &crate::kv_cache::KvCache,
        labels: &[Vec<u32>],
    ) -> Result<Vec<Vec<f32>>> {
        let batch_cache = cache.broadcast_row0(labels.len(), self.decoder().device())?;
        self.continuation_logprobs_with(batch_cache, &BatchLayout::unpadded(labels.len()), labels)
    }

    /// Row `i` continues row `i` of `cache` (laid out as `layout`) with `labels[i]`.
    fn continuation_logprobs_with(
        &self,
        mut batch_cache: crate::kv_cache::KvCache,
        layout: &BatchLayout,
        labels: &[Vec<u32>],
    ) -> Result<Vec<Vec<f32>>> {
        let width = labels.iter().map(Vec::len).max().unwrap_or(0);
        if width < 2 {
            return Ok(vec![Vec::new(); labels.len()]);
        }
        let n = labels.len();
        let device = self.decoder().device();
        let padded: Vec<u32> = labels
            .iter()
            .flat_map(|l| l.iter().copied().chain(std::iter::repeat(l[0])).take(width))
            .collect();
        let input = Tensor::from_vec(padded.clone(), (n, width), device)?;
        let hidden = self.decoder().forward_hidden(
            DecoderInput::Tokens(&input),
            layout,
            &mut batch_cache,
        )?;
        let logits = self.decoder().logits(&hidden.narrow(1, 0, width - 1)?)?; // position j predicts j + 1
        let logprobs = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        let targets = input.narrow(1, 1, width - 1)?.contiguous()?.unsqueeze(2)?;
        let picked: Vec<Vec<f32>> = logprobs.gather(&targets, 2)?.squeeze(2)?.to_vec2()?;
        Ok(picked
            .into_iter()
            .zip(labels)
            .map(|(row, l)| row[..l.len() - 1].to_vec())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_matches_the_processor_chat_template() {
        let expected = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n\
                        Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\nWhat is the emotion?<|im_end|>\n\
                        <|im_start|>assistant\n";
        assert_eq!(
            render_audio_prompt(None, "What is the emotion?", 1),
            expected
        );
    }
}
