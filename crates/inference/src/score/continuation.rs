//! The one continuation-scoring path of text choices and audio labels: log-probs of each label's
//! tokens read off forwards over the prompt's KV cache, their sums, softmax and argmax.

use candle_core::{Tensor, D};

use crate::error::Result;
use crate::kv_cache::KvCache;
use crate::mask::BatchLayout;
use crate::qwen2::{DecoderInput, Qwen2Decoder};

/// Log-probability of one label continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelScore {
    pub token_logprobs: Vec<f32>,
    pub logprob: f32,
}

impl LabelScore {
    fn new(token_logprobs: Vec<f32>) -> Self {
        Self {
            logprob: token_logprobs.iter().sum(),
            token_logprobs,
        }
    }

    /// Splits the log-probs of every label token, label after label, into one score per label.
    pub(crate) fn split(flat: &[f32], labels: &[Vec<u32>]) -> Vec<Self> {
        let mut rest = flat;
        labels
            .iter()
            .map(|ids| {
                let (mine, after) = rest.split_at(ids.len());
                rest = after;
                Self::new(mine.to_vec())
            })
            .collect()
    }

    /// Token 0 of each label from `first` (the prompt's last log-softmax row), tokens 1.. from
    /// `tails` (one per label, as [`tail_logprobs`] returns them).
    pub(crate) fn join(
        first: &[f32],
        labels: &[Vec<u32>],
        tails: impl IntoIterator<Item = Vec<f32>>,
    ) -> Vec<Self> {
        labels
            .iter()
            .zip(tails)
            .map(|(label, tail)| {
                let mut token_logprobs = vec![first[label[0] as usize]];
                token_logprobs.extend(tail);
                Self::new(token_logprobs)
            })
            .collect()
    }
}

/// Log-softmax rows of the logits `(rows, vocab)` at the final-normed `hidden` `(rows, hidden)`.
pub(crate) fn log_softmax_rows(decoder: &Qwen2Decoder, hidden: &Tensor) -> Result<Vec<Vec<f32>>> {
    let logits = decoder.logits(hidden)?;
    Ok(candle_nn::ops::log_softmax(&logits, D::Minus1)?.to_vec2()?)
}

/// Log-prob of `targets[i]` under row `i` of `logits` `(rows, vocab)`.
pub(crate) fn target_logprobs(logits: &Tensor, targets: &Tensor) -> Result<Vec<f32>> {
    let targets = targets.unsqueeze(1)?;
    Ok(candle_nn::ops::log_softmax(logits, D::Minus1)?
        .gather(&targets, 1)?
        .squeeze(1)?
        .to_vec1()?)
}

/// Log-probs of label tokens 1.. (token 0 is scored by the prompt): row `i` continues row `i` of
/// `cache` (laid out as `layout`) with `labels[i]`. Labels are right-padded with their own first
/// token; causal masking keeps padding out of every real position.
pub(crate) fn tail_logprobs(
    decoder: &Qwen2Decoder,
    mut cache: KvCache,
    layout: &BatchLayout,
    labels: &[Vec<u32>],
) -> Result<Vec<Vec<f32>>> {
    let width = labels.iter().map(Vec::len).max().unwrap_or(0);
    if width < 2 {
        return Ok(vec![Vec::new(); labels.len()]);
    }
    let n = labels.len();
    let padded: Vec<u32> = labels
        .iter()
        .flat_map(|l| l.iter().copied().chain(std::iter::repeat(l[0])).take(width))
        .collect();
    let input = Tensor::from_vec(padded, (n, width), decoder.device())?;
    let hidden = decoder.forward_hidden(DecoderInput::Tokens(&input), layout, &mut cache)?;
    // Position j predicts token j + 1.
    let logits = decoder.logits(&hidden.narrow(1, 0, width - 1)?)?; // (n, width - 1, vocab)
    let targets = input.narrow(1, 1, width - 1)?.contiguous()?;
    let picked = target_logprobs(&logits.flatten_to(1)?, &targets.flatten_all()?)?;
    Ok(picked
        .chunks(width - 1)
        .zip(labels)
        .map(|(row, l)| row[..l.len() - 1].to_vec())
        .collect())
}

/// Softmax of label log-probs and the most likely label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LabelDistribution {
    pub probabilities: Vec<f32>,
    /// The first label of highest log-prob (ties go to the earlier label).
    pub best: usize,
}

impl LabelDistribution {
    pub(crate) fn of(scores: &[LabelScore]) -> Self {
        let logprobs: Vec<f32> = scores.iter().map(|s| s.logprob).collect();
        Self {
            probabilities: softmax(&logprobs),
            best: argmax(&logprobs),
        }
    }
}

pub(crate) fn softmax(logprobs: &[f32]) -> Vec<f32> {
    let max = logprobs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logprobs.iter().map(|l| (l - max).exp()).collect();
    let total: f32 = exps.iter().sum();
    exps.iter().map(|e| e / total).collect()
}

/// Index of the first maximum (NaN never wins); 0 when empty.
pub(crate) fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(logprobs: &[f32]) -> Vec<LabelScore> {
        logprobs.iter().map(|&l| LabelScore::new(vec![l])).collect()
    }

    #[test]
    fn a_tie_goes_to_the_earlier_label() {
        assert_eq!(LabelDistribution::of(&scores(&[-2.0, -1.0, -1.0])).best, 1);
    }

    #[test]
    fn split_and_join_give_per_label_sums() {
        let labels = vec![vec![5, 6], vec![7]];
        let split = LabelScore::split(&[-1.0, -2.0, -0.5], &labels);
        assert_eq!(split[0].logprob, -3.0);
        assert_eq!(split[1].token_logprobs, vec![-0.5]);
        let first = [0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, -0.5];
        let joined = LabelScore::join(&first, &labels, [vec![-2.0], vec![]]);
        assert_eq!(joined, split);
    }
}
