//! `score_choices` and `score_choices_batch`: log-probabilities of candidate continuations. The
//! token prefix shared by all prompts is prefilled once; each prompt then costs one forward over
//! its own remaining tokens and every choice at once (a [`ChoiceTree`]), on top of that prefix.

pub(crate) mod continuation;
mod tree;

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Tensor;

use crate::error::{InferenceError, Result};
use crate::mask::BatchLayout;
use crate::qwen2::DecoderInput;
use crate::text_model::TextModel;
use crate::types::{ChoiceScore, ChoiceScores, PromptInput, Usage};
use crate::weights::RowIndependentGemm;
use continuation::{target_logprobs, LabelDistribution, LabelScore};
use tree::ChoiceTree;

impl TextModel {
    /// Scores each choice as a continuation of `prompt`: per-token log-probs, their sum, and the
    /// sums normalized into probabilities over the choices. Choices are tokenized on their own.
    pub fn score_choices(
        &mut self,
        prompt: &PromptInput,
        choices: &[String],
        cancel: &AtomicBool,
    ) -> Result<ChoiceScores> {
        let mut scored = self.score_choices_batch(std::slice::from_ref(prompt), choices, cancel)?;
        scored
            .pop()
            .ok_or_else(|| InferenceError::Runtime("no scores for the prompt".into()))
    }

    /// [`Self::score_choices`] for several prompts against the same choices, in prompt order.
    /// The longest token prefix common to all prompts is computed once and reused by every
    /// prompt; the numbers are those of scoring each prompt alone.
    pub fn score_choices_batch(
        &mut self,
        prompts: &[PromptInput],
        choices: &[String],
        cancel: &AtomicBool,
    ) -> Result<Vec<ChoiceScores>> {
        let choice_ids = self.all_choice_ids(choices)?;
        let prompt_ids = prompts
            .iter()
            .map(|p| self.prompt_ids(p))
            .collect::<Result<Vec<_>>>()?;
        let longest = choice_ids.iter().map(Vec::len).max().unwrap_or(0);
        for ids in &prompt_ids {
            self.check_length(ids.len() + longest)?;
        }
        let _row_independent = RowIndependentGemm::enter();
        let shared = shared_prefix_len(&prompt_ids);
        abort_if(cancel)?;
        self.prefill_shared(prompt_ids.first().map_or(&[][..], |ids| &ids[..shared]))?;
        let mut results = Vec::with_capacity(prompt_ids.len());
        for ids in &prompt_ids {
            abort_if(cancel)?;
            let logprobs = self.tree_logprobs(&ids[shared..], shared, &choice_ids)?;
            results.push(assemble(choices, &choice_ids, &logprobs, ids.len()));
        }
        Ok(results)
    }

    fn all_choice_ids(&self, choices: &[String]) -> Result<Vec<Vec<u32>>> {
        if choices.is_empty() {
            return Err(InferenceError::bad_input(
                "score_choices needs at least one choice",
            ));
        }
        choices.iter().map(|c| self.choice_ids(c)).collect()
    }

    fn choice_ids(&self, choice: &str) -> Result<Vec<u32>> {
        let ids = self.tokenizer.encode(choice)?;
        if ids.is_empty() {
            return Err(InferenceError::bad_input("a choice is empty"));
        }
        Ok(ids)
    }

    /// Fills the cache with the shared prefix (nothing when there is none).
    fn prefill_shared(&mut self, prefix: &[u32]) -> Result<()> {
        self.cache.clear();
        if prefix.is_empty() {
            return Ok(());
        }
        let input = Tensor::new(prefix, self.decoder.device())?.unsqueeze(0)?;
        self.decoder.forward_hidden(
            DecoderInput::Tokens(&input),
            &BatchLayout::unpadded(1),
            &mut self.cache,
        )?;
        Ok(())
    }

    /// One forward of `tail` plus every choice after the first `shared` cached positions; returns
    /// the log-prob of each choice token, choice after choice.
    fn tree_logprobs(
        &mut self,
        tail: &[u32],
        shared: usize,
        choice_ids: &[Vec<u32>],
    ) -> Result<Vec<f32>> {
        self.cache.truncate(shared);
        let tree = ChoiceTree::new(tail.len(), choice_ids.iter().map(Vec::len).collect());
        let tokens: Vec<u32> = tail
            .iter()
            .chain(choice_ids.iter().flatten())
            .copied()
            .collect();
        let device = self.decoder.device().clone();
        let input = Tensor::new(tokens.as_slice(), &device)?.unsqueeze(0)?;
        let hidden = self
            .decoder
            .forward_hidden(DecoderInput::Tokens(&input), &tree, &mut self.cache)?
            .squeeze(0)?; // (seq, hidden)
        let slots = Tensor::new(tree.predictor_slots().as_slice(), &device)?;
        let logits = self.decoder.logits(&hidden.index_select(&slots, 0)?)?;
        let targets: Vec<u32> = choice_ids.iter().flatten().copied().collect();
        target_logprobs(&logits, &Tensor::new(targets.as_slice(), &device)?)
    }
}

fn abort_if(cancel: &AtomicBool) -> Result<()> {
    if cancel.load(Ordering::Relaxed) {
        return Err(InferenceError::Aborted);
    }
    Ok(())
}

/// Tokens every prompt starts with, leaving each at least one token of its own (its last position
/// predicts the first choice token). A lone prompt shares nothing: one forward covers it.
fn shared_prefix_len(prompts: &[Vec<u32>]) -> usize {
    let [first, rest @ ..] = prompts else {
        return 0;
    };
    if rest.is_empty() {
        return 0;
    }
    let common = rest.iter().fold(first.len(), |len, ids| {
        first[..len]
            .iter()
            .zip(ids)
            .take_while(|(a, b)| a == b)
            .count()
    });
    let shortest = prompts.iter().map(Vec::len).min().unwrap_or(0);
    common.min(shortest.saturating_sub(1))
}

/// Splits the flat token log-probs per choice and fills in sums, probabilities and usage.
fn assemble(
    choices: &[String],
    choice_ids: &[Vec<u32>],
    logprobs: &[f32],
    prompt_len: usize,
) -> ChoiceScores {
    let label_scores = LabelScore::split(logprobs, choice_ids);
    let distribution = LabelDistribution::of(&label_scores);
    let scores = choices
        .iter()
        .zip(choice_ids)
        .zip(label_scores)
        .zip(distribution.probabilities)
        .map(|(((text, ids), score), probability)| ChoiceScore {
            text: text.clone(),
            token_ids: ids.clone(),
            token_logprobs: score.token_logprobs,
            logprob: score.logprob,
            probability,
        })
        .collect();
    let choice_tokens: usize = choice_ids.iter().map(Vec::len).sum();
    ChoiceScores {
        choices: scores,
        best: distribution.best,
        usage: Usage {
            prompt_tokens: prompt_len + choice_tokens,
            completion_tokens: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::shared_prefix_len;

    #[test]
    fn shared_prefix_leaves_every_prompt_a_token_of_its_own() {
        assert_eq!(shared_prefix_len(&[]), 0);
        assert_eq!(shared_prefix_len(&[vec![1, 2, 3]]), 0);
        assert_eq!(shared_prefix_len(&[vec![1, 2, 3], vec![1, 2, 4, 5]]), 2);
        assert_eq!(shared_prefix_len(&[vec![1, 2], vec![1, 2, 3]]), 1);
        assert_eq!(shared_prefix_len(&[vec![1, 2, 3], vec![1, 2, 3]]), 2);
        assert_eq!(
            shared_prefix_len(&[vec![1, 2, 3], vec![1, 9], vec![1, 2, 3]]),
            1
        );
        assert_eq!(shared_prefix_len(&[vec![7, 2], vec![1, 2]]), 0);
    }
}
