//! Which evaluated step `best/` keeps: the highest eval exact match with the lower loss breaking
//! ties (the default), or the lowest eval loss. Loss is a noisy proxy for accuracy on a small eval
//! set: it punishes a few confident mistakes more than it rewards many more right answers. On BBH
//! boolean_expressions (docs/finetune.md) the lowest-loss step gained +0.03 held-out, the
//! highest-exact-match step +0.20.

use serde::{Deserialize, Serialize};

use super::state::CurveRow;
use crate::error::{InferenceError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BestBy {
    ExactMatch,
    Loss,
}

impl BestBy {
    /// `loss` or `exact-match`; anything else is `E_BAD_INPUT`.
    pub fn parse(name: &str) -> Result<Self> {
        [Self::ExactMatch, Self::Loss]
            .into_iter()
            .find(|by| by.name() == name)
            .ok_or_else(|| {
                InferenceError::bad_input(format!(
                    "best_by must be loss or exact-match (got {name:?})"
                ))
            })
    }

    /// The name `parse` reads.
    pub fn name(self) -> &'static str {
        match self {
            Self::Loss => "loss",
            Self::ExactMatch => "exact-match",
        }
    }
}

/// The eval row `best/` should hold; the first of equals.
pub(crate) fn best_eval_row(rows: &[CurveRow], by: BestBy) -> Option<&CurveRow> {
    let mut best: Option<&CurveRow> = None;
    for row in rows.iter().filter(|r| r.eval_loss.is_some()) {
        if best.is_none_or(|b| better(row, b, by)) {
            best = Some(row);
        }
    }
    best
}

fn better(a: &CurveRow, b: &CurveRow, by: BestBy) -> bool {
    let loss = |r: &CurveRow| r.eval_loss.unwrap_or(f64::INFINITY);
    let exact = |r: &CurveRow| r.eval_exact_match.unwrap_or(0.0);
    match by {
        BestBy::Loss => loss(a) < loss(b),
        BestBy::ExactMatch => exact(a) > exact(b) || (exact(a) == exact(b) && loss(a) < loss(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(step: usize, loss: f64, exact: f64) -> CurveRow {
        CurveRow {
            step,
            train_loss: None,
            eval_loss: Some(loss),
            eval_exact_match: Some(exact),
            lr: 0.0,
            tokens: 0,
        }
    }

    fn best_step(rows: &[CurveRow], by: BestBy) -> Option<usize> {
        best_eval_row(rows, by).map(|r| r.step)
    }

    #[test]
    fn loss_and_exact_match_can_choose_different_steps() {
        // Step 20 has the lowest loss; 60 and 80 tie on exact match, and 80 has the lower loss.
        let mut rows = vec![row(0, 0.53, 0.40), row(20, 0.32, 0.48), row(40, 0.33, 0.48)];
        rows.extend([
            row(60, 0.52, 0.84),
            row(80, 0.46, 0.84),
            row(100, 0.32, 0.60),
        ]);
        let train_only = CurveRow {
            eval_loss: None,
            eval_exact_match: None,
            ..row(10, 0.0, 1.0)
        };
        rows.insert(1, train_only);
        assert_eq!(best_step(&rows, BestBy::Loss), Some(20)); // first of the two 0.32s
        assert_eq!(best_step(&rows, BestBy::ExactMatch), Some(80));
        assert_eq!(best_step(&rows[..1], BestBy::ExactMatch), Some(0));
        assert_eq!(best_step(&[], BestBy::Loss), None);
    }

    #[test]
    fn best_by_parses_its_two_names_and_refuses_others() {
        assert_eq!(BestBy::parse("loss").unwrap(), BestBy::Loss);
        assert_eq!(BestBy::parse("exact-match").unwrap(), BestBy::ExactMatch);
        assert_eq!(BestBy::parse("accuracy").unwrap_err().code(), "E_BAD_INPUT");
        for by in [BestBy::Loss, BestBy::ExactMatch] {
            assert_eq!(BestBy::parse(by.name()).unwrap(), by);
        }
    }
}
