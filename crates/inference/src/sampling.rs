//! Next-token selection. Argmax and top-k run on the device (candle ops); only a small candidate
//! set reaches the host, where temperature, top-p and the seeded draw happen.

use candle_core::{Tensor, D};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::{InferenceError, Result};

/// Candidates kept when sampling without `top_k` (probability mass beyond them is negligible).
pub const DEFAULT_SAMPLING_CANDIDATES: usize = 256;
/// Vocabulary chunk width for the two-stage device top-k.
const CHUNK: usize = 128;

/// How to pick each next token. The default is greedy decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SamplingParams {
    /// 0 = greedy (argmax); otherwise logits are divided by it before sampling.
    pub temperature: f32,
    /// Keep only the k most likely tokens (sampling only).
    pub top_k: Option<usize>,
    /// Keep the smallest set of tokens whose probability reaches p (sampling only).
    pub top_p: Option<f32>,
    /// HF/CTRL repetition penalty over prompt and generated tokens; 1.0 = off.
    pub repetition_penalty: f32,
    /// RNG seed; the same seed, model and prompt give the same text.
    pub seed: u64,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.0,
            top_k: None,
            top_p: None,
            repetition_penalty: 1.0,
            seed: 0,
        }
    }
}

impl SamplingParams {
    /// Rejects values that have no meaning.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(InferenceError::bad_input(format!("sampling: {what}")));
        if !(self.temperature.is_finite() && self.temperature >= 0.0) {
            return bad("temperature must be >= 0");
        }
        if self.top_k == Some(0) {
            return bad("top_k must be >= 1");
        }
        if self.top_p.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
            return bad("top_p must be in (0, 1]");
        }
        if !(self.repetition_penalty.is_finite() && self.repetition_penalty > 0.0) {
            return bad("repetition_penalty must be > 0");
        }
        Ok(())
    }

    fn is_greedy(&self) -> bool {
        self.temperature == 0.0 || self.top_k == Some(1)
    }
}

/// Per-sequence sampler with its own seeded RNG.
pub struct Sampler {
    params: SamplingParams,
    rng: StdRng,
}

impl Sampler {
    pub fn new(params: SamplingParams) -> Self {
        let rng = StdRng::seed_from_u64(params.seed);
        Self { params, rng }
    }

    /// Picks the next token from `(vocab,)` f32 logits; `history` feeds the repetition penalty.
    pub fn next_token(&mut self, logits: &Tensor, history: &[u32]) -> Result<u32> {
        let logits = penalize_on_device(logits, history, self.params.repetition_penalty)?;
        if self.params.is_greedy() {
            return Ok(logits.argmax(D::Minus1)?.to_scalar::<u32>()?);
        }
        let k = self.params.top_k.unwrap_or(DEFAULT_SAMPLING_CANDIDATES);
        let candidates = top_k_on_device(&logits, k)?;
        Ok(sample_candidates(
            &candidates,
            self.params.temperature,
            self.params.top_p,
            &mut self.rng,
        ))
    }
}

/// CTRL/HF repetition penalty of one logit: positive ones are divided, negative ones multiplied.
pub fn penalized_logit(logit: f32, penalty: f32) -> f32 {
    if logit >= 0.0 {
        logit / penalty
    } else {
        logit * penalty
    }
}

/// Applies the penalty to the seen ids only: gather them, fix on the host, add the deltas back.
fn penalize_on_device(logits: &Tensor, history: &[u32], penalty: f32) -> Result<Tensor> {
    if penalty == 1.0 || history.is_empty() {
        return Ok(logits.clone());
    }
    let vocab = logits.dim(0)? as u32;
    let mut ids: Vec<u32> = history.iter().copied().filter(|&t| t < vocab).collect();
    ids.sort_unstable();
    ids.dedup();
    let ids = Tensor::new(ids.as_slice(), logits.device())?;
    let seen: Vec<f32> = logits.index_select(&ids, 0)?.to_vec1()?;
    let deltas: Vec<f32> = seen
        .iter()
        .map(|&l| penalized_logit(l, penalty) - l)
        .collect();
    let deltas = Tensor::new(deltas.as_slice(), logits.device())?;
    Ok(logits.index_add(&ids, &deltas, 0)?)
}

/// The `k` largest logits as `(id, logit)`, best first. Two stages on the device: the maximum of
/// every `CHUNK`-wide slice, then only the best `k` slices are copied out (the top k values lie
/// in the k slices with the largest maxima).
pub fn top_k_on_device(logits: &Tensor, k: usize) -> Result<Vec<(u32, f32)>> {
    let vocab = logits.dim(0)?;
    let padded_len = vocab.div_ceil(CHUNK) * CHUNK;
    let padded = if padded_len == vocab {
        logits.clone()
    } else {
        let fill = Tensor::full(f32::NEG_INFINITY, padded_len - vocab, logits.device())?;
        Tensor::cat(&[logits, &fill], 0)?
    };
    let chunks = padded.reshape((padded_len / CHUNK, CHUNK))?;
    let chunk_max: Vec<f32> = chunks.max(D::Minus1)?.to_vec1()?;
    let best_chunks: Vec<u32> = largest(chunk_max.iter().copied().enumerate(), k)
        .into_iter()
        .map(|(i, _)| i as u32)
        .collect();
    let picked = Tensor::new(best_chunks.as_slice(), logits.device())?;
    let rows: Vec<Vec<f32>> = chunks.index_select(&picked, 0)?.to_vec2()?;
    let values = best_chunks.iter().zip(rows).flat_map(|(&c, row)| {
        row.into_iter()
            .enumerate()
            .map(move |(j, v)| (c as usize * CHUNK + j, v))
    });
    let real = values.filter(|&(i, _)| i < vocab); // drop the -inf padding
    Ok(largest(real, k)
        .into_iter()
        .map(|(i, v)| (i as u32, v))
        .collect())
}

/// The `k` entries with the largest values, best first (ties: lower index first).
fn largest(items: impl Iterator<Item = (usize, f32)>, k: usize) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> = items.filter(|(_, v)| !v.is_nan()).collect();
    let order = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if k < all.len() {
        all.select_nth_unstable_by(k, order);
        all.truncate(k);
    }
    all.sort_unstable_by(order);
    all
}

/// Softmax of `logits / temperature` over sorted candidates, cut to top-p, then one seeded draw.
pub fn sample_candidates(
    candidates: &[(u32, f32)],
    temperature: f32,
    top_p: Option<f32>,
    rng: &mut StdRng,
) -> u32 {
    let probs = candidate_probs(candidates, temperature);
    let keep = top_p.map_or(probs.len(), |p| top_p_keep(&probs, p));
    let total: f32 = probs[..keep].iter().sum();
    let mut draw = rng.random::<f32>() * total;
    for (i, p) in probs[..keep].iter().enumerate() {
        draw -= p;
        if draw <= 0.0 {
            return candidates[i].0;
        }
    }
    candidates[keep.saturating_sub(1)].0
}

/// Probabilities of sorted candidates at a temperature (they sum to 1 over the candidates).
pub fn candidate_probs(candidates: &[(u32, f32)], temperature: f32) -> Vec<f32> {
    let max = candidates.first().map_or(0.0, |c| c.1);
    let weights: Vec<f32> = candidates
        .iter()
        .map(|c| ((c.1 - max) / temperature).exp())
        .collect();
    let sum: f32 = weights.iter().sum();
    weights.iter().map(|w| w / sum).collect()
}

/// How many of the sorted probabilities to keep: the fewest whose sum reaches `p` (at least one).
pub fn top_p_keep(sorted_probs: &[f32], p: f32) -> usize {
    let mut cumulative = 0.0;
    for (i, prob) in sorted_probs.iter().enumerate() {
        cumulative += prob;
        if cumulative >= p {
            return i + 1;
        }
    }
    sorted_probs.len().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn logits(values: &[f32]) -> Tensor {
        Tensor::new(values, &Device::Cpu).unwrap()
    }

    #[test]
    fn greedy_is_argmax() {
        let mut s = Sampler::new(SamplingParams::default());
        assert_eq!(
            s.next_token(&logits(&[0.1, 3.0, -2.0, 2.9]), &[]).unwrap(),
            1
        );
    }

    #[test]
    fn top_k_on_device_matches_a_full_sort() {
        let values: Vec<f32> = (0..1000)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.01 - (i % 3) as f32)
            .collect();
        let got = top_k_on_device(&logits(&values), 40).unwrap();
        let mut want: Vec<(u32, f32)> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as u32, v))
            .collect();
        want.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        want.truncate(40);
        assert_eq!(got, want);
        assert_eq!(
            top_k_on_device(&logits(&[1.0, 5.0, 3.0]), 10).unwrap(),
            vec![(1, 5.0), (2, 3.0), (0, 1.0)]
        );
    }

    #[test]
    fn top_k_sampling_only_draws_from_the_k_best() {
        let params = SamplingParams {
            temperature: 5.0,
            top_k: Some(2),
            seed: 7,
            ..Default::default()
        };
        let mut s = Sampler::new(params);
        let l = logits(&[1.0, 4.0, 0.0, 3.9, -1.0]);
        let drawn: std::collections::BTreeSet<u32> =
            (0..200).map(|_| s.next_token(&l, &[]).unwrap()).collect();
        assert_eq!(drawn.into_iter().collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn top_p_keeps_the_smallest_prefix_reaching_p() {
        let probs = [0.5, 0.3, 0.15, 0.05];
        assert_eq!(top_p_keep(&probs, 0.5), 1);
        assert_eq!(top_p_keep(&probs, 0.6), 2);
        assert_eq!(top_p_keep(&probs, 0.9), 3);
        assert_eq!(top_p_keep(&probs, 1.0), 4);
        let cands = [(4, 2.0f32), (9, 1.0), (1, 0.0)];
        let p = candidate_probs(&cands, 1.0);
        let e = [1.0f32, (-1.0f32).exp(), (-2.0f32).exp()];
        let sum: f32 = e.iter().sum();
        for (got, want) in p.iter().zip(e) {
            assert!((got - want / sum).abs() < 1e-6);
        }
        let mut rng = StdRng::seed_from_u64(1);
        // p(first) = 0.665 >= 0.6: only token 4 survives.
        assert!((0..100).all(|_| sample_candidates(&cands, 1.0, Some(0.6), &mut rng) == 4));
    }

    #[test]
    fn same_seed_same_tokens_other_seed_differs() {
        let l = logits(&[0.0; 64]);
        let run = |seed| {
            let mut s = Sampler::new(SamplingParams {
                temperature: 1.0,
                seed,
                ..Default::default()
            });
            (0..32)
                .map(|_| s.next_token(&l, &[]).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn repetition_penalty_divides_positive_and_multiplies_negative_logits() {
        assert_eq!(penalized_logit(3.0, 1.5), 2.0);
        assert_eq!(penalized_logit(-2.0, 1.5), -3.0);
        let out = penalize_on_device(&logits(&[3.0, -2.0, 1.0]), &[0, 1, 0], 1.5).unwrap();
        assert_eq!(out.to_vec1::<f32>().unwrap(), vec![2.0, -3.0, 1.0]);
        // Greedy flips from token 0 to token 2 once 0 is penalized hard enough.
        let mut s = Sampler::new(SamplingParams {
            repetition_penalty: 4.0,
            ..Default::default()
        });
        assert_eq!(s.next_token(&logits(&[3.0, -2.0, 1.0]), &[0]).unwrap(), 2);
    }

    #[test]
    fn invalid_params_are_bad_input() {
        for p in [
            SamplingParams {
                temperature: -1.0,
                ..Default::default()
            },
            SamplingParams {
                top_p: Some(0.0),
                ..Default::default()
            },
            SamplingParams {
                top_k: Some(0),
                ..Default::default()
            },
            SamplingParams {
                repetition_penalty: 0.0,
                ..Default::default()
            },
        ] {
            assert_eq!(p.validate().unwrap_err().code(), "E_BAD_INPUT");
        }
    }
}
