//! Audio classification two ways: greedy generation of a few tokens, and label scoring
//! (log-probability of each label continuation after one prompt prefill, all labels batched).

use candle_core::{Tensor, D};

use super::model::Qwen2AudioModel;
use crate::error::{InferenceError, Result};
use crate::mask::BatchLayout;
use crate::qwen2::DecoderInput;
pub use crate::score::continuation::LabelScore;
use crate::score::continuation::{log_softmax_rows, tail_logprobs};
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
        let logits = self.decoder().logits(&last_position(hidden)?)?.squeeze(0)?; // (vocab,)
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
        let first = log_softmax_rows(self.decoder(), &last_position(&hidden)?)?; // (1, vocab)
        let batch_cache = cache.broadcast_row0(labels.len(), self.decoder().device())?;
        let layout = BatchLayout::unpadded(labels.len());
        let tails = tail_logprobs(self.decoder(), batch_cache, &layout, labels)?;
        Ok(LabelScore::join(&first[0], labels, tails))
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
        let first = log_softmax_rows(self.decoder(), &last_position(&hidden)?)?; // (b, vocab)
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
        let tails = tail_logprobs(self.decoder(), pair_cache, &pair_layout, &pair_labels)?;
        let mut tails = tails.into_iter();
        Ok(first
            .iter()
            .map(|first| LabelScore::join(first, labels, tails.by_ref().take(labels.len())))
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
}

/// The last position of every row: `(b, seq, hidden) -> (b, hidden)`.
fn last_position(hidden: &Tensor) -> Result<Tensor> {
    let seq = hidden.dim(1)?;
    Ok(hidden.narrow(1, seq - 1, 1)?.squeeze(1)?)
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
