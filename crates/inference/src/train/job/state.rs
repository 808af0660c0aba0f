//! The job's own part of a checkpoint (`job_state.json`): the loss history, token and time
//! counters, and the options the weights depend on, so a resume continues the same curve and
//! refuses changed options.

use serde::{Deserialize, Serialize};

use super::best::BestBy;
use super::config::Fingerprint;
use crate::error::{InferenceError, Result};

/// One line of `loss_curve.csv`. Step 0 holds only the eval loss before training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurveRow {
    pub step: usize,
    #[serde(with = "super::exact::option")]
    pub train_loss: Option<f64>,
    #[serde(with = "super::exact::option")]
    pub eval_loss: Option<f64>,
    /// The share of eval examples that greedy decoding reproduces (set with `eval_loss`).
    #[serde(default, with = "super::exact::option")]
    pub eval_exact_match: Option<f64>,
    #[serde(with = "super::exact")]
    pub lr: f64,
    /// Tokens trained on so far (every non-pad input token).
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobState {
    pub fingerprint: Fingerprint,
    pub rows: Vec<CurveRow>,
    pub tokens: u64,
    pub loss_tokens: u64,
    /// Wall time of earlier sessions of this run (a resume adds its own).
    pub wall_seconds: f64,
    /// Seconds spent in training steps by earlier sessions (for tokens/s).
    pub train_seconds: f64,
}

pub(crate) const FILE: &str = "job_state.json";

impl JobState {
    pub fn fresh(fingerprint: Fingerprint) -> Self {
        Self {
            fingerprint,
            rows: Vec::new(),
            tokens: 0,
            loss_tokens: 0,
            wall_seconds: 0.0,
            train_seconds: 0.0,
        }
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(self).map_err(|e| InferenceError::Runtime(e.to_string()))
    }

    /// Reads `dir/job_state.json`, refusing a checkpoint written with other options.
    pub fn read(dir: &std::path::Path, expected: &Fingerprint) -> Result<Self> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            InferenceError::ModelFormat(format!("checkpoint {}: {e}", path.display()))
        })?;
        let state: Self = serde_json::from_str(&text).map_err(|e| {
            InferenceError::ModelFormat(format!("checkpoint {}: {e}", path.display()))
        })?;
        let changed = expected.differences(&state.fingerprint);
        if !changed.is_empty() {
            return Err(InferenceError::bad_input(format!(
                "cannot resume {}: options differ from the checkpoint's: {}",
                dir.display(),
                changed.join(", ")
            )));
        }
        Ok(state)
    }

    /// The rows up to `step` (a checkpoint is written after its step's row).
    pub fn truncate_to(&mut self, step: usize) {
        self.rows.retain(|row| row.step <= step);
    }
}

/// `best/best_eval.json`: the step and eval numbers of the adapter kept in `best/`, and the
/// criterion that chose it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BestMarker {
    pub step: usize,
    pub eval_loss: f64,
    #[serde(default)]
    pub eval_exact_match: Option<f64>,
    /// Markers written before the choice existed were chosen by loss.
    #[serde(default = "loss")]
    pub best_by: BestBy,
}

fn loss() -> BestBy {
    BestBy::Loss
}

pub(crate) const BEST_MARKER: &str = "best_eval.json";

impl BestMarker {
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        serde_json::to_vec_pretty(self).map_err(|e| InferenceError::Runtime(e.to_string()))
    }

    /// `None` when `dir` holds no readable marker.
    pub fn read(dir: &std::path::Path) -> Option<Self> {
        let text = std::fs::read_to_string(dir.join(BEST_MARKER)).ok()?;
        serde_json::from_str(&text).ok()
    }
}
