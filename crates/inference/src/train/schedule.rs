//! Which examples each optimizer step sees: epochs of a seeded shuffle, cut into steps of
//! `batch_size × grad_accum` examples and micro-batches of `batch_size`. A pure function of the
//! step number, so a resumed run picks up exactly the batches it would have seen.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::error::{InferenceError, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct BatchPlan {
    pub examples: usize,
    pub batch_size: usize,
    /// Micro-batches accumulated into one optimizer step.
    pub grad_accum: usize,
    pub epochs: usize,
    pub seed: u64,
}

impl BatchPlan {
    pub fn validated(self) -> Result<Self> {
        if self.examples == 0 || self.batch_size == 0 || self.grad_accum == 0 || self.epochs == 0 {
            return Err(InferenceError::bad_input(format!(
                "examples, batch size, gradient accumulation and epochs must all be at least 1 \
                 (got {}, {}, {}, {})",
                self.examples, self.batch_size, self.grad_accum, self.epochs
            )));
        }
        Ok(self)
    }

    /// Steps per epoch; the last step of an epoch may be short.
    pub fn steps_per_epoch(&self) -> usize {
        self.examples.div_ceil(self.batch_size * self.grad_accum)
    }

    pub fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.epochs
    }

    /// Example indices of step `step` (0-based), one `Vec` per micro-batch; `None` past the end.
    pub fn micro_batches(&self, step: usize) -> Option<Vec<Vec<usize>>> {
        if step >= self.total_steps() {
            return None;
        }
        let (epoch, within) = (step / self.steps_per_epoch(), step % self.steps_per_epoch());
        let order = self.epoch_order(epoch);
        let per_step = self.batch_size * self.grad_accum;
        let window = &order[within * per_step..((within + 1) * per_step).min(order.len())];
        Some(
            window
                .chunks(self.batch_size)
                .map(<[usize]>::to_vec)
                .collect(),
        )
    }

    fn epoch_order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.examples).collect();
        let mut rng = StdRng::seed_from_u64(self.seed ^ (epoch as u64).wrapping_mul(0xA24B_AED4));
        order.shuffle(&mut rng);
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> BatchPlan {
        BatchPlan {
            examples: 7,
            batch_size: 2,
            grad_accum: 2,
            epochs: 3,
            seed: 5,
        }
        .validated()
        .unwrap()
    }

    #[test]
    fn every_epoch_sees_every_example_once() {
        let p = plan();
        assert_eq!((p.steps_per_epoch(), p.total_steps()), (2, 6));
        for epoch in 0..3 {
            let mut seen: Vec<usize> = (0..2)
                .flat_map(|s| p.micro_batches(epoch * 2 + s).unwrap().concat())
                .collect();
            seen.sort();
            assert_eq!(seen, (0..7).collect::<Vec<_>>());
        }
        let first = p.micro_batches(0).unwrap();
        assert_eq!(first.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2]);
        let short = p.micro_batches(1).unwrap();
        assert_eq!(short.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(p.micro_batches(6), None);
    }

    #[test]
    fn epochs_reshuffle_and_a_step_is_reproducible() {
        let p = plan();
        assert_ne!(p.micro_batches(0), p.micro_batches(2), "epoch 2 reshuffled");
        assert_eq!(p.micro_batches(3), plan().micro_batches(3));
    }

    #[test]
    fn zero_sizes_are_refused() {
        let err = BatchPlan {
            batch_size: 0,
            ..plan()
        }
        .validated()
        .unwrap_err();
        assert_eq!(err.code(), "E_BAD_INPUT");
    }
}
