//! The serializable result: the shape printed by `opt-native metrics --json` and returned to JS.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::balanced::{accuracy, balanced_accuracy, macro_f1, recall_per_class};
use crate::bootstrap::BootstrapInterval;
use crate::confusion::ConfusionMatrix;

/// Metrics over all rows, per condition value, and the OPRO condition macro.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsReport {
    pub n: u64,
    /// Class names; `confusion` rows follow this order, its last column is `unknown`.
    pub labels: Vec<String>,
    /// Whether balanced accuracies are chance-adjusted (0 = chance, 1 = perfect).
    pub adjusted: bool,
    pub accuracy: f64,
    /// `null` only when adjusted with a single class present.
    pub balanced_accuracy: Option<f64>,
    pub macro_f1: f64,
    pub per_class: Vec<ClassReport>,
    pub confusion: Vec<Vec<u64>>,
    /// Predictions that could not be mapped to a label (counted wrong).
    pub unknown: u64,
    pub unknown_rate: f64,
    pub unknown_examples: Vec<String>,
    /// Mean over condition columns of the mean balanced accuracy over that column's values
    /// (`BA_conditions` in the OPRO reward); `null` without condition columns.
    pub ba_conditions_macro: Option<f64>,
    /// Per column: mean balanced accuracy over its values.
    pub ba_conditions_by_column: BTreeMap<String, Option<f64>>,
    /// `per_condition[column][value]`
    pub per_condition: BTreeMap<String, BTreeMap<String, ConditionValueReport>>,
    pub bootstrap: Option<BootstrapInterval>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassReport {
    pub label: String,
    /// Rows whose true label is this class.
    pub support: u64,
    /// Rows predicted as this class.
    pub predicted: u64,
    /// `null` when the class never occurs in the true labels.
    pub recall: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConditionValueReport {
    pub n: u64,
    pub accuracy: f64,
    pub balanced_accuracy: Option<f64>,
    pub unknown: u64,
    /// Confusion counts (rows: true labels; columns: labels then `unknown`).
    pub counts: Vec<Vec<u64>>,
}

impl ConditionValueReport {
    pub fn from_matrix(matrix: &ConfusionMatrix, adjusted: bool) -> Self {
        ConditionValueReport {
            n: matrix.total(),
            accuracy: accuracy(matrix).unwrap_or(0.0),
            balanced_accuracy: balanced_accuracy(matrix, adjusted),
            unknown: matrix.unknown(),
            counts: matrix.to_nested(),
        }
    }
}

pub(crate) fn class_reports(matrix: &ConfusionMatrix, labels: &[String]) -> Vec<ClassReport> {
    labels
        .iter()
        .zip(recall_per_class(matrix))
        .enumerate()
        .map(|(class, (label, recall))| ClassReport {
            label: label.clone(),
            support: matrix.true_count(class),
            predicted: matrix.predicted_count(class),
            recall,
        })
        .collect()
}

pub(crate) fn overall_scores(matrix: &ConfusionMatrix, adjusted: bool) -> (f64, Option<f64>, f64) {
    (
        accuracy(matrix).unwrap_or(0.0),
        balanced_accuracy(matrix, adjusted),
        macro_f1(matrix).unwrap_or(0.0),
    )
}

/// Mean of the defined values; `None` when there are none.
pub(crate) fn mean_defined(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, count) = values
        .into_iter()
        .flatten()
        .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    (count > 0).then(|| sum / count as f64)
}
