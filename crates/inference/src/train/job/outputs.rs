//! What a run leaves in its output folder besides the adapter: `loss_curve.csv`,
//! `loss_curve.svg` and `train_summary.json`.

use std::path::Path;

use serde::Serialize;

use super::best::{best_eval_row, BestBy};
use super::state::CurveRow;
use super::svg::loss_chart;
use crate::error::{InferenceError, Result};

/// The result of a finished run (also `train_summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainSummary {
    /// Optimizer steps taken (all sessions).
    pub steps: usize,
    pub epochs: usize,
    pub examples: usize,
    pub eval_examples: usize,
    /// Non-pad input tokens trained on.
    pub tokens: u64,
    /// Of those, tokens that carried loss (assistant turns).
    pub loss_tokens: u64,
    pub first_train_loss: f64,
    pub final_train_loss: f64,
    pub best_train_loss: f64,
    /// Before the first step.
    pub initial_eval_loss: Option<f64>,
    pub final_eval_loss: Option<f64>,
    /// The eval loss and step of the adapter in `best/`, chosen by `best_by`.
    pub best_eval_loss: Option<f64>,
    pub best_eval_step: Option<usize>,
    /// The share of eval examples greedy decoding reproduces: before training, after it, at
    /// `best_eval_step`.
    pub initial_eval_exact_match: Option<f64>,
    pub final_eval_exact_match: Option<f64>,
    pub best_eval_exact_match: Option<f64>,
    pub best_by: BestBy,
    /// The adapter of `best_eval_step` (`output_dir/best`), kept when eval data were given.
    pub best_adapter_dir: Option<String>,
    /// Training tokens per second of step time (all sessions).
    pub tokens_per_second: f64,
    /// Wall time of all sessions, loading included.
    pub wall_seconds: f64,
    /// The checkpoint step this session started from (`None`: a fresh run).
    pub resumed_from_step: Option<usize>,
    /// The process's peak resident memory (Linux `VmHWM`).
    pub peak_rss_bytes: Option<u64>,
    pub output_dir: String,
}

impl TrainSummary {
    /// Fills the loss and exact-match fields from the curve, the best step by `best_by`.
    pub(crate) fn losses_from(&mut self, rows: &[CurveRow], best_by: BestBy) {
        let train: Vec<f64> = rows.iter().filter_map(|r| r.train_loss).collect();
        self.first_train_loss = train.first().copied().unwrap_or(f64::NAN);
        self.final_train_loss = train.last().copied().unwrap_or(f64::NAN);
        self.best_train_loss = train.iter().copied().fold(f64::NAN, f64::min);
        let evals: Vec<&CurveRow> = rows.iter().filter(|r| r.eval_loss.is_some()).collect();
        let initial = evals.iter().find(|r| r.step == 0);
        self.initial_eval_loss = initial.and_then(|r| r.eval_loss);
        self.initial_eval_exact_match = initial.and_then(|r| r.eval_exact_match);
        self.final_eval_loss = evals.last().and_then(|r| r.eval_loss);
        self.final_eval_exact_match = evals.last().and_then(|r| r.eval_exact_match);
        let best = best_eval_row(rows, best_by);
        self.best_eval_loss = best.and_then(|r| r.eval_loss);
        self.best_eval_step = best.map(|r| r.step);
        self.best_eval_exact_match = best.and_then(|r| r.eval_exact_match);
        self.best_by = best_by;
    }
}

/// `step,train_loss,eval_loss,eval_exact_match,lr,tokens`; a missing value is an empty field.
pub(crate) fn curve_csv(rows: &[CurveRow]) -> String {
    let mut out = String::from("step,train_loss,eval_loss,eval_exact_match,lr,tokens\n");
    let field = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v}"));
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            r.step,
            field(r.train_loss),
            field(r.eval_loss),
            field(r.eval_exact_match),
            r.lr,
            r.tokens
        ));
    }
    out
}

pub(crate) fn write_curve(dir: &Path, rows: &[CurveRow]) -> Result<()> {
    write(&dir.join("loss_curve.csv"), curve_csv(rows).as_bytes())?;
    write(&dir.join("loss_curve.svg"), loss_chart(rows).as_bytes())
}

pub(crate) fn write_summary(dir: &Path, summary: &TrainSummary) -> Result<()> {
    let json =
        serde_json::to_vec_pretty(summary).map_err(|e| InferenceError::Runtime(e.to_string()))?;
    write(&dir.join("train_summary.json"), &json)
}

/// Written beside and renamed, so a reader never sees half a file.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension("partial");
    let io = |e: std::io::Error| InferenceError::Runtime(format!("{}: {e}", path.display()));
    std::fs::write(&partial, bytes).map_err(io)?;
    std::fs::rename(&partial, path).map_err(io)
}

/// Peak resident set size of this process, where `/proc` says it.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
