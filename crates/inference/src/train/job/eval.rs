//! Held-out loss: the mean negative log-likelihood per learned token, without dropout.

use candle_core::{DType, Device};

use crate::error::Result;
use crate::train::data::{TokenBatch, TokenizedExample};
use crate::train::model::TrainModel;

/// Mean loss over every learned token of `examples`, in batches of `batch_size`.
pub(crate) fn eval_loss(
    model: &TrainModel,
    examples: &[TokenizedExample],
    batch_size: usize,
    pad_id: u32,
    device: &Device,
) -> Result<f64> {
    let (mut sum, mut tokens) = (0.0, 0usize);
    for chunk in examples.chunks(batch_size.max(1)) {
        let refs: Vec<&TokenizedExample> = chunk.iter().collect();
        let batch = TokenBatch::new(&refs, pad_id, device)?;
        let loss = model.loss_sum(&batch, None)?.detach();
        sum += loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
        tokens += batch.loss_tokens;
    }
    Ok(sum / tokens.max(1) as f64)
}
