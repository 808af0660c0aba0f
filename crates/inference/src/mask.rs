//! Positions and additive attention masks for one forward step over a (possibly left-padded) batch
//! on top of `past` cached positions.

use candle_core::{DType, Device, Tensor};

use crate::error::Result;

/// Where the new positions of one forward step sit (RoPE) and what each may attend to.
pub trait AttentionLayout {
    /// Per-row RoPE positions of new slots `past..past+seq`: `None` when every row uses
    /// `past..past+seq` (the RoPE table can then be narrowed), else `(b, seq)` u32.
    fn positions(&self, past: usize, seq: usize, device: &Device) -> Result<Option<Tensor>>;

    /// Additive mask `(b, 1, seq, past + seq)`, or `None` when no key needs hiding.
    fn mask(
        &self,
        past: usize,
        seq: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Option<Tensor>>;
}

/// Which cache slots of each row are padding: row `r` holds padding in slots `0..left_pad[r]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLayout {
    pub left_pad: Vec<usize>,
}

/// Large negative instead of -inf: a fully masked row stays finite (no NaN in padded slots).
pub(crate) const MASKED: f32 = -1e9;

impl BatchLayout {
    /// `batch` rows without padding.
    pub fn unpadded(batch: usize) -> Self {
        Self {
            left_pad: vec![0; batch],
        }
    }

    /// Left padding that aligns rows of the given lengths to the longest.
    pub fn for_lengths(lengths: &[usize]) -> Self {
        let width = lengths.iter().copied().max().unwrap_or(0);
        Self {
            left_pad: lengths.iter().map(|l| width - l).collect(),
        }
    }

    pub fn batch(&self) -> usize {
        self.left_pad.len()
    }

    fn is_padded(&self) -> bool {
        self.left_pad.iter().any(|&p| p > 0)
    }

    /// RoPE position of slot `slot` in row `row` (HF: cumsum(mask) - 1, padding clamped to 0).
    fn position(&self, row: usize, slot: usize) -> u32 {
        slot.saturating_sub(self.left_pad[row]) as u32
    }
}

impl AttentionLayout for BatchLayout {
    fn positions(&self, past: usize, seq: usize, device: &Device) -> Result<Option<Tensor>> {
        if !self.is_padded() {
            return Ok(None);
        }
        let ids: Vec<u32> = (0..self.batch())
            .flat_map(|row| (past..past + seq).map(move |slot| self.position(row, slot)))
            .collect();
        Ok(Some(Tensor::from_vec(ids, (self.batch(), seq), device)?))
    }

    /// Causal, padding slots hidden. `None` when a single unpadded query needs no mask. Padding
    /// queries see themselves only, so they stay finite.
    fn mask(
        &self,
        past: usize,
        seq: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Option<Tensor>> {
        if seq == 1 && !self.is_padded() {
            return Ok(None);
        }
        let mask = causal_mask(self.batch(), past, seq, dtype, device, |row, query, key| {
            let pad = self.left_pad[row];
            if query < pad {
                key == query
            } else {
                key <= query && key >= pad
            }
        })?;
        Ok(Some(mask))
    }
}

/// Additive mask `(rows, 1, seq, past + seq)` for queries `past..past + seq` over keys
/// `0..past + seq` (both in cache slots): 0 where `visible(row, query, key)`, else [`MASKED`].
pub(crate) fn causal_mask(
    rows: usize,
    past: usize,
    seq: usize,
    dtype: DType,
    device: &Device,
    visible: impl Fn(usize, usize, usize) -> bool,
) -> Result<Tensor> {
    let kv = past + seq;
    let mut data = Vec::with_capacity(rows * seq * kv);
    for row in 0..rows {
        for query in past..kv {
            data.extend((0..kv).map(|key| {
                if visible(row, query, key) {
                    0.0
                } else {
                    MASKED
                }
            }));
        }
    }
    let mask = Tensor::from_vec(data, (rows, 1, seq, kv), device)?;
    Ok(mask.to_dtype(dtype)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_rows(layout: &BatchLayout, past: usize, seq: usize) -> Vec<Vec<Vec<bool>>> {
        let m = layout
            .mask(past, seq, DType::F32, &Device::Cpu)
            .unwrap()
            .unwrap();
        let v = m.squeeze(1).unwrap().to_vec3::<f32>().unwrap();
        v.into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|q| q.into_iter().map(|x| x == 0.0).collect())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn rectangular_causal_mask_on_top_of_cache() {
        let rows = mask_rows(&BatchLayout::unpadded(1), 2, 2);
        assert_eq!(
            rows[0],
            vec![vec![true, true, true, false], vec![true, true, true, true]]
        );
    }

    #[test]
    fn left_padding_is_hidden_and_positions_restart() {
        let layout = BatchLayout::for_lengths(&[1, 3]);
        assert_eq!(layout.left_pad, vec![2, 0]);
        let rows = mask_rows(&layout, 0, 3);
        assert_eq!(
            rows[0],
            vec![
                vec![true, false, false],
                vec![false, true, false],
                vec![false, false, true]
            ]
        );
        assert_eq!(rows[1][2], vec![true, true, true]);
        let pos = layout
            .positions(0, 3, &Device::Cpu)
            .unwrap()
            .unwrap()
            .to_vec2::<u32>()
            .unwrap();
        assert_eq!(pos, vec![vec![0, 0, 0], vec![0, 1, 2]]);
        let step = layout
            .positions(3, 1, &Device::Cpu)
            .unwrap()
            .unwrap()
            .to_vec2::<u32>()
            .unwrap();
        assert_eq!(step, vec![vec![1], vec![3]]);
    }

    #[test]
    fn single_unpadded_query_needs_no_mask() {
        assert!(BatchLayout::unpadded(2)
            .mask(5, 1, DType::F32, &Device::Cpu)
            .unwrap()
            .is_none());
        assert!(BatchLayout::unpadded(2)
            .positions(5, 1, &Device::Cpu)
            .unwrap()
            .is_none());
    }
}
