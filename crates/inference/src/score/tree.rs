//! The layout of one scoring forward: a trunk (the prompt's tokens after the cached prefix) then
//! every choice as its own branch. A branch sees the cache, the whole trunk and its own earlier
//! tokens, never another branch, so all choices are scored by one forward of one row.

use candle_core::{DType, Device, Tensor};

use crate::error::Result;
use crate::mask::{causal_mask, AttentionLayout};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChoiceTree {
    trunk: usize,
    /// Token count of each choice, in order.
    branches: Vec<usize>,
}

impl ChoiceTree {
    /// `trunk` must be at least 1: its last slot predicts every choice's first token.
    pub(crate) fn new(trunk: usize, branches: Vec<usize>) -> Self {
        Self { trunk, branches }
    }

    /// Slot where each branch starts, counted from the first new slot.
    fn branch_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.branches.iter().scan(self.trunk, |next, &len| {
            let start = *next;
            *next += len;
            Some(start)
        })
    }

    /// For every new slot: the first new slot of its segment (0 in the trunk) and its distance
    /// from the end of the cache in positions.
    fn slots(&self) -> Vec<(usize, usize)> {
        let trunk = (0..self.trunk).map(|i| (0, i));
        let branches = self
            .branch_starts()
            .zip(&self.branches)
            .flat_map(|(start, &len)| (0..len).map(move |k| (start, self.trunk + k)));
        trunk.chain(branches).collect()
    }

    /// The new slot whose logits predict each choice token, choice by choice: the trunk's last
    /// slot for token 0, the branch's slot `k - 1` for token `k`.
    pub(crate) fn predictor_slots(&self) -> Vec<u32> {
        self.branch_starts()
            .zip(&self.branches)
            .flat_map(|(start, &len)| {
                std::iter::once(self.trunk - 1).chain((1..len).map(move |k| start + k - 1))
            })
            .map(|slot| slot as u32)
            .collect()
    }
}

impl AttentionLayout for ChoiceTree {
    fn positions(&self, past: usize, seq: usize, device: &Device) -> Result<Option<Tensor>> {
        let ids: Vec<u32> = self
            .slots()
            .iter()
            .map(|&(_, depth)| (past + depth) as u32)
            .collect();
        debug_assert_eq!(ids.len(), seq);
        Ok(Some(Tensor::from_vec(ids, (1, seq), device)?))
    }

    fn mask(
        &self,
        past: usize,
        seq: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Option<Tensor>> {
        let slots = self.slots();
        let mask = causal_mask(1, past, seq, dtype, device, |_, query, key| {
            // The cache is the shared prefix: every new slot sees all of it.
            let Some(key) = key.checked_sub(past) else {
                return true;
            };
            let query = query - past;
            key <= query && (key < self.trunk || key >= slots[query].0)
        })?;
        Ok(Some(mask))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trunk of 2, choices of 2 and 1 tokens: slots t0 t1 | a0 a1 | b0, on top of 1 cached slot.
    fn tree() -> ChoiceTree {
        ChoiceTree::new(2, vec![2, 1])
    }

    #[test]
    fn branches_see_the_trunk_and_themselves_only() {
        let mask = tree()
            .mask(1, 5, DType::F32, &Device::Cpu)
            .unwrap()
            .unwrap()
            .squeeze(0)
            .unwrap()
            .squeeze(0)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let visible: Vec<Vec<u8>> = mask
            .iter()
            .map(|row| row.iter().map(|&x| u8::from(x == 0.0)).collect())
            .collect();
        assert_eq!(
            visible,
            vec![
                vec![1, 1, 0, 0, 0, 0], // t0
                vec![1, 1, 1, 0, 0, 0], // t1
                vec![1, 1, 1, 1, 0, 0], // a0
                vec![1, 1, 1, 1, 1, 0], // a1
                vec![1, 1, 1, 0, 0, 1], // b0
            ]
        );
    }

    #[test]
    fn every_branch_continues_the_trunk_positions() {
        let positions = tree()
            .positions(1, 5, &Device::Cpu)
            .unwrap()
            .unwrap()
            .to_vec2::<u32>()
            .unwrap();
        assert_eq!(positions, vec![vec![1, 2, 3, 4, 3]]);
    }

    #[test]
    fn each_choice_token_is_predicted_by_the_slot_before_it() {
        assert_eq!(tree().predictor_slots(), vec![1, 2, 1]);
    }
}
