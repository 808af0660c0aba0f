//! Decides the classes and maps each distinct raw label/prediction to a class code.
//! - With a label set: true labels must match a label (or synonym) up to case and punctuation,
//!   otherwise `E_UNKNOWN_LABEL`; predictions are matched the same way, or free-text normalized
//!   with `normalize`, and anything else is `unknown`.
//! - Without one and with `normalize`: the classes are the distinct true labels (sorted).
//! - Without either: the classes are the sorted union of true labels and predictions, as in
//!   scikit-learn.

use crate::encode::EncodedColumn;
use crate::error::{MetricsError, Result};
use crate::labels::LabelSet;
use crate::normalize::Normalizer;

/// How many distinct unparseable predictions a report lists.
pub const MAX_UNKNOWN_EXAMPLES: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct ClassMapping {
    pub names: Vec<String>,
    /// raw true-label code → class
    pub true_classes: Vec<u32>,
    /// raw prediction code → class, or `names.len()` for unknown
    pub pred_classes: Vec<u32>,
    /// distinct raw predictions that became unknown (nulls excluded), first seen first
    pub unknown_examples: Vec<String>,
}

/// Builds the mapping; `truth` and `pred` are the encoded label and prediction columns.
pub fn map_classes(
    truth: &EncodedColumn,
    pred: &EncodedColumn,
    labels: Option<&LabelSet>,
    normalize: bool,
) -> Result<ClassMapping> {
    if let Some(row) = truth.first_null_row() {
        return Err(MetricsError::bad_input(format!(
            "the label column has a null at row {row}; every row needs a true label"
        )));
    }
    let label_set = match labels {
        Some(set) => set.clone(),
        None if normalize => LabelSet::from_names(sorted_distinct(&truth.values))?,
        None => return Ok(exact_union(truth, pred)),
    };
    let normalizer = Normalizer::new(label_set);
    let names = normalizer.labels().names();
    let true_classes = truth
        .values
        .iter()
        .enumerate()
        .map(|(code, value)| {
            normalizer.exact(value).map(|c| c as u32).ok_or_else(|| {
                let row = truth.codes.iter().position(|&c| c as usize == code);
                MetricsError::UnknownLabel {
                    label: value.clone(),
                    row: row.unwrap_or(0),
                    allowed: names.clone(),
                }
            })
        })
        .collect::<Result<Vec<u32>>>()?;
    let unknown = names.len() as u32;
    let mut unknown_examples = Vec::new();
    let pred_classes = pred
        .values
        .iter()
        .enumerate()
        .map(|(code, value)| {
            let is_null = pred.null_code == Some(code as u32);
            let class = match (is_null, normalize) {
                (true, _) => None,
                (false, true) => normalizer.normalize(value),
                (false, false) => normalizer.exact(value),
            };
            class.map_or_else(
                || {
                    if !is_null && unknown_examples.len() < MAX_UNKNOWN_EXAMPLES {
                        unknown_examples.push(value.clone());
                    }
                    unknown
                },
                |c| c as u32,
            )
        })
        .collect();
    Ok(ClassMapping {
        names,
        true_classes,
        pred_classes,
        unknown_examples,
    })
}

fn sorted_distinct(values: &[String]) -> Vec<String> {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
}

/// scikit-learn semantics: classes are the sorted distinct values of labels and predictions.
fn exact_union(truth: &EncodedColumn, pred: &EncodedColumn) -> ClassMapping {
    let pred_values = pred
        .values
        .iter()
        .enumerate()
        .filter(|(code, _)| pred.null_code != Some(*code as u32))
        .map(|(_, v)| v.clone());
    let names = sorted_distinct(
        &truth
            .values
            .iter()
            .cloned()
            .chain(pred_values)
            .collect::<Vec<_>>(),
    );
    let class_of = |value: &String| names.binary_search(value).map_or(0, |i| i as u32);
    let unknown = names.len() as u32;
    ClassMapping {
        true_classes: truth.values.iter().map(class_of).collect(),
        pred_classes: pred
            .values
            .iter()
            .enumerate()
            .map(|(code, v)| {
                if pred.null_code == Some(code as u32) {
                    unknown
                } else {
                    class_of(v)
                }
            })
            .collect(),
        names,
        unknown_examples: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[&str], codes: &[u32], null_code: Option<u32>) -> EncodedColumn {
        EncodedColumn {
            codes: codes.to_vec(),
            values: values.iter().map(|s| s.to_string()).collect(),
            null_code,
        }
    }

    #[test]
    fn union_is_sorted_like_sklearn() {
        let truth = column(&["b", "a"], &[0, 1], None);
        let pred = column(&["c", "(null)"], &[0, 1], Some(1));
        let m = map_classes(&truth, &pred, None, false).unwrap();
        assert_eq!(m.names, vec!["a", "b", "c"]);
        assert_eq!(m.true_classes, vec![1, 0]);
        assert_eq!(m.pred_classes, vec![2, 3], "null prediction is unknown");
    }

    #[test]
    fn label_set_rejects_unknown_true_labels() {
        let set = LabelSet::from_names(["SPEECH", "NON-SPEECH"]).unwrap();
        let truth = column(&["speech", "MUSIC"], &[0, 0, 1], None);
        let pred = column(&["SPEECH"], &[0, 0, 0], None);
        let err = map_classes(&truth, &pred, Some(&set), false).unwrap_err();
        assert_eq!(err.code(), "E_UNKNOWN_LABEL");
        assert!(err.to_string().contains("`MUSIC` (row 2)"), "{err}");
    }

    #[test]
    fn predictions_exact_or_normalized() {
        let set = LabelSet::from_names(["SPEECH", "NON-SPEECH"]).unwrap();
        let truth = column(&["SPEECH", "NON-SPEECH"], &[0, 1], None);
        let pred = column(
            &["Non-speech.", "there is no speech", "maybe"],
            &[0, 1, 2],
            None,
        );
        let strict = map_classes(&truth, &pred, Some(&set), false).unwrap();
        assert_eq!(strict.pred_classes, vec![1, 2, 2]);
        assert_eq!(strict.unknown_examples, vec!["there is no speech", "maybe"]);
        let loose = map_classes(&truth, &pred, Some(&set), true).unwrap();
        assert_eq!(loose.pred_classes, vec![1, 1, 2]);
        assert_eq!(loose.unknown_examples, vec!["maybe"]);
    }

    #[test]
    fn normalize_without_label_set_uses_true_labels() {
        let truth = column(&["yes", "no"], &[0, 1], None);
        let pred = column(&["Yes!", "The answer is no", "(null)"], &[0, 1, 2], Some(2));
        let m = map_classes(&truth, &pred, None, true).unwrap();
        assert_eq!(m.names, vec!["no", "yes"]);
        assert_eq!(m.pred_classes, vec![1, 0, 2]);
        assert!(m.unknown_examples.is_empty(), "nulls are not examples");
    }

    #[test]
    fn null_true_label_is_an_error() {
        let truth = column(&["a", "(null)"], &[0, 1], Some(1));
        let pred = column(&["a"], &[0, 0], None);
        assert_eq!(
            map_classes(&truth, &pred, None, false).unwrap_err().code(),
            "E_BAD_INPUT"
        );
    }
}
