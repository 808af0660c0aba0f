//! `score_choices`: log-probabilities of candidate continuations from one prompt prefill whose KV
//! cache is shared (copied per row once) by a single batched forward over all choices.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{Tensor, D};

use crate::error::{InferenceError, Result};
use crate::mask::BatchLayout;
use crate::qwen2::DecoderInput;
use crate::text_model::TextModel;
use crate::types::{ChoiceScore, ChoiceScores, PromptInput, Usage};

impl TextModel {
    /// Scores each choice as a continuation of `prompt`: per-token log-probs, their sum, and the
    /// sums normalized into probabilities over the choices. Choices are tokenized on their own.
    pub fn score_choices(
        &mut self,
        prompt: &PromptInput,
        choices: &[String],
        cancel: &AtomicBool,
    ) -> Result<ChoiceScores> {
        if choices.is_empty() {
            return Err(InferenceError::bad_input(
                "score_choices needs at least one choice",
            ));
        }
        let prompt_ids = self.prompt_ids(prompt)?;
        let choice_ids = choices
            .iter()
            .map(|c| self.choice_ids(c))
            .collect::<Result<Vec<_>>>()?;
        let longest = choice_ids.iter().map(Vec::len).max().unwrap_or(0);
        self.check_length(prompt_ids.len() + longest)?;
        let first = self.prefill_prompt(&prompt_ids)?; // (vocab,) log-probs after the prompt
        if cancel.load(Ordering::Relaxed) {
            return Err(InferenceError::Aborted);
        }
        let rest = self.continuation_logprobs(&choice_ids)?;
        let mut scores: Vec<ChoiceScore> = choices
            .iter()
            .zip(&choice_ids)
            .zip(rest)
            .map(|((text, ids), tail)| {
                let mut token_logprobs = vec![first[ids[0] as usize]];
                token_logprobs.extend(tail);
                let logprob = token_logprobs.iter().sum();
                ChoiceScore {
                    text: text.clone(),
                    token_ids: ids.clone(),
                    token_logprobs,
                    logprob,
                    probability: 0.0,
                }
            })
            .collect();
        let best = normalize(&mut scores);
        let choice_tokens: usize = choice_ids.iter().map(Vec::len).sum();
        let usage = Usage {
            prompt_tokens: prompt_ids.len() + choice_tokens,
            completion_tokens: 0,
        };
        Ok(ChoiceScores {
            choices: scores,
            best,
            usage,
        })
    }

    fn choice_ids(&self, choice: &str) -> Result<Vec<u32>> {
        let ids = self.tokenizer.encode(choice)?;
        if ids.is_empty() {
            return Err(InferenceError::bad_input("a choice is empty"));
        }
        Ok(ids)
    }

    /// Prefills the prompt into the cache; returns the next-token log-probs on the host.
    fn prefill_prompt(&mut self, prompt_ids: &[u32]) -> Result<Vec<f32>> {
        self.cache.clear();
        let input = Tensor::new(prompt_ids, self.decoder.device())?.unsqueeze(0)?;
        let logits = self.decoder.forward_last(
            DecoderInput::Tokens(&input),
            &BatchLayout::unpadded(1),
            &mut self.cache,
        )?;
        Ok(candle_nn::ops::log_softmax(&logits, D::Minus1)?
            .squeeze(0)?
            .to_vec1()?)
    }

    /// Log-probs of choice tokens 1.. (token 0 is scored by the prompt's last position). Choices are
    /// right-padded, so causal masking alone keeps the padding out of every real position.
    fn continuation_logprobs(&mut self, choice_ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
        let width = choice_ids.iter().map(Vec::len).max().unwrap_or(0);
        if width < 2 {
            return Ok(vec![Vec::new(); choice_ids.len()]);
        }
        let n = choice_ids.len();
        let pad = self.tokenizer.pad_id();
        let padded: Vec<u32> = choice_ids
            .iter()
            .flat_map(|ids| {
                ids.iter()
                    .copied()
                    .chain(std::iter::repeat(pad))
                    .take(width)
            })
            .collect();
        let input = Tensor::from_vec(padded.clone(), (n, width), self.decoder.device())?;
        let mut cache = self.cache.broadcast_row0(n, self.decoder.device())?;
        let hidden = self.decoder.forward_hidden(
            DecoderInput::Tokens(&input),
            &BatchLayout::unpadded(n),
            &mut cache,
        )?;
        let hidden = hidden.narrow(1, 0, width - 1)?; // position j predicts token j + 1
        let logprobs = candle_nn::ops::log_softmax(&self.decoder.logits(&hidden)?, D::Minus1)?;
        let targets =
            Tensor::from_vec(padded, (n, width), self.decoder.device())?.narrow(1, 1, width - 1)?;
        let picked: Vec<Vec<f32>> = logprobs
            .gather(&targets.contiguous()?.unsqueeze(2)?, 2)?
            .squeeze(2)?
            .to_vec2()?;
        Ok(picked
            .into_iter()
            .zip(choice_ids)
            .map(|(row, ids)| row[..ids.len() - 1].to_vec())
            .collect())
    }
}

/// Fills `probability` with a softmax over the summed log-probs; returns the best index.
fn normalize(scores: &mut [ChoiceScore]) -> usize {
    let max = scores
        .iter()
        .map(|s| s.logprob)
        .fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f32> = scores.iter().map(|s| (s.logprob - max).exp()).collect();
    let total: f32 = weights.iter().sum();
    for (score, w) in scores.iter_mut().zip(&weights) {
        score.probability = w / total;
    }
    scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.logprob.total_cmp(&b.1.logprob))
        .map_or(0, |(i, _)| i)
}
