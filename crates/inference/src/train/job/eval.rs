//! Held-out numbers, without dropout: the mean negative log-likelihood per learned token, and the
//! share of examples that greedy decoding reproduces.

use candle_core::Device;

use crate::error::Result;
use crate::train::data::{TokenBatch, TokenizedExample};
use crate::train::model::TrainModel;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EvalMetrics {
    pub loss: f64,
    pub exact_match: f64,
}

/// Over every example of `examples`, in batches of `batch_size`.
pub(crate) fn evaluate(
    model: &TrainModel,
    examples: &[TokenizedExample],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<EvalMetrics> {
    let (mut loss_sum, mut tokens, mut exact, mut scored) = (0.0, 0usize, 0usize, 0usize);
    for chunk in examples.chunks(batch_size.max(1)) {
        let refs: Vec<&TokenizedExample> = chunk.iter().collect();
        let batch = TokenBatch::new(&refs, pad_id, device)?;
        let measured = model.eval_batch(&batch)?;
        loss_sum += measured.loss_sum;
        tokens += batch.loss_tokens;
        exact += measured.exact_matches;
        scored += measured.scored_examples;
    }
    Ok(EvalMetrics {
        loss: loss_sum / tokens.max(1) as f64,
        exact_match: exact as f64 / scored.max(1) as f64,
    })
}
