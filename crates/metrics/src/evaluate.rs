//! From coded rows to a report: tally once, then score the overall and per-condition matrices.

use std::collections::{BTreeMap, HashSet};

use crate::bootstrap::{bootstrap_balanced_accuracy, BootstrapOptions};
use crate::error::{MetricsError, Result};
use crate::report::{
    class_reports, mean_defined, overall_scores, ConditionValueReport, MetricsReport,
};
use crate::tally::{tally, CodedRows};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EvaluateOptions {
    /// Chance-adjusted balanced accuracy (sklearn `adjusted=True`).
    pub adjusted: bool,
    pub bootstrap: Option<BootstrapOptions>,
}

/// Scores coded rows; `labels[i]` names class `i`, predictions equal to `labels.len()` are unknown.
pub fn evaluate_codes(
    rows: &CodedRows<'_>,
    labels: &[String],
    unknown_examples: Vec<String>,
    options: &EvaluateOptions,
) -> Result<MetricsReport> {
    if labels.len() != rows.num_classes {
        return Err(MetricsError::bad_input(format!(
            "{} label names for {} classes",
            labels.len(),
            rows.num_classes
        )));
    }
    if rows.num_classes == 0 {
        return Err(MetricsError::bad_input("at least one class is needed"));
    }
    if rows.is_empty() {
        return Err(MetricsError::EmptyTable);
    }
    check_unique_names(rows)?;
    if let Some(bootstrap) = &options.bootstrap {
        bootstrap.validate()?;
    }
    let tallies = tally(rows)?;
    let overall = &tallies.overall;
    let (accuracy, balanced_accuracy, macro_f1) = overall_scores(overall, options.adjusted);
    let mut per_condition = BTreeMap::new();
    let mut ba_conditions_by_column = BTreeMap::new();
    for (condition, matrices) in rows.conditions.iter().zip(&tallies.per_condition) {
        let values: BTreeMap<String, ConditionValueReport> = condition
            .values
            .iter()
            .zip(matrices)
            .filter(|(_, matrix)| matrix.total() > 0)
            .map(|(value, matrix)| {
                let report = ConditionValueReport::from_matrix(matrix, options.adjusted);
                (value.clone(), report)
            })
            .collect();
        let column_macro = mean_defined(values.values().map(|v| v.balanced_accuracy));
        ba_conditions_by_column.insert(condition.name.to_string(), column_macro);
        per_condition.insert(condition.name.to_string(), values);
    }
    let bootstrap = match &options.bootstrap {
        Some(bootstrap) => bootstrap_balanced_accuracy(overall, bootstrap, options.adjusted)?,
        None => None,
    };
    let n = overall.total();
    Ok(MetricsReport {
        n,
        labels: labels.to_vec(),
        adjusted: options.adjusted,
        accuracy,
        balanced_accuracy,
        macro_f1,
        per_class: class_reports(overall, labels),
        confusion: overall.to_nested(),
        unknown: overall.unknown(),
        unknown_rate: overall.unknown() as f64 / n as f64,
        unknown_examples,
        ba_conditions_macro: mean_defined(ba_conditions_by_column.values().copied()),
        ba_conditions_by_column,
        per_condition,
        bootstrap,
    })
}

fn check_unique_names(rows: &CodedRows<'_>) -> Result<()> {
    let mut columns = HashSet::new();
    for condition in rows.conditions {
        if !columns.insert(condition.name) {
            return Err(MetricsError::bad_input(format!(
                "condition column `{}` is given twice",
                condition.name
            )));
        }
        let mut values = HashSet::new();
        if let Some(duplicate) = condition.values.iter().find(|v| !values.insert(v.as_str())) {
            return Err(MetricsError::bad_input(format!(
                "condition `{}` lists value `{duplicate}` twice",
                condition.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::ConditionCodes;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn single_condition_hand_computed() {
        // labels: 0 = SPEECH, 1 = NON-SPEECH, 2 = unknown
        // snr "0dB": rows 0-3, truth [0,0,1,1], pred [0,1,1,2] → recalls 1/2, 1/2 → BA 0.5
        // snr "20dB": rows 4-6, truth [0,1,1], pred [0,1,1] → BA 1
        let labels = strings(&["SPEECH", "NON-SPEECH"]);
        let snr_values = strings(&["0dB", "20dB"]);
        let conditions = [ConditionCodes {
            name: "snr",
            codes: &[0, 0, 0, 0, 1, 1, 1],
            values: &snr_values,
        }];
        let rows = CodedRows {
            num_classes: 2,
            y_true: &[0, 0, 1, 1, 0, 1, 1],
            y_pred: &[0, 1, 1, 2, 0, 1, 1],
            conditions: &conditions,
        };
        let report = evaluate_codes(
            &rows,
            &labels,
            vec!["hmm".into()],
            &EvaluateOptions::default(),
        )
        .unwrap();
        assert_eq!(report.n, 7);
        assert!((report.accuracy - 5.0 / 7.0).abs() < 1e-15);
        // overall: SPEECH 2/3, NON-SPEECH 3/4
        let ba = report.balanced_accuracy.unwrap();
        assert!((ba - (2.0 / 3.0 + 0.75) / 2.0).abs() < 1e-15);
        assert_eq!(report.unknown, 1);
        assert_eq!(report.confusion, vec![vec![2, 1, 0], vec![0, 3, 1]]);
        let snr = &report.per_condition["snr"];
        assert_eq!(snr["0dB"].n, 4);
        assert_eq!(snr["0dB"].balanced_accuracy, Some(0.5));
        assert_eq!(snr["0dB"].unknown, 1);
        assert_eq!(snr["20dB"].balanced_accuracy, Some(1.0));
        assert_eq!(report.ba_conditions_macro, Some(0.75));
        assert_eq!(report.ba_conditions_by_column["snr"], Some(0.75));
        assert_eq!(report.per_class[1].support, 4);
        assert_eq!(report.per_class[1].recall, Some(0.75));
    }

    #[test]
    fn macro_is_mean_of_column_means() {
        let labels = strings(&["a", "b"]);
        let (c1, c2) = (strings(&["x", "y"]), strings(&["only"]));
        let conditions = [
            ConditionCodes {
                name: "c1",
                codes: &[0, 0, 1, 1],
                values: &c1,
            },
            ConditionCodes {
                name: "c2",
                codes: &[0, 0, 0, 0],
                values: &c2,
            },
        ];
        // c1=x: truth [0,1] pred [0,1] → 1; c1=y: truth [0,1] pred [1,1] → 0.5
        // c2=only: recalls a 1/2, b 2/2 → 0.75 → macro = mean(0.75, 0.75)
        let rows = CodedRows {
            num_classes: 2,
            y_true: &[0, 1, 0, 1],
            y_pred: &[0, 1, 1, 1],
            conditions: &conditions,
        };
        let report = evaluate_codes(&rows, &labels, vec![], &EvaluateOptions::default()).unwrap();
        assert_eq!(report.ba_conditions_by_column["c1"], Some(0.75));
        assert_eq!(report.ba_conditions_by_column["c2"], Some(0.75));
        assert_eq!(report.ba_conditions_macro, Some(0.75));
    }

    #[test]
    fn all_unknown_and_no_conditions() {
        let labels = strings(&["a", "b"]);
        let rows = CodedRows {
            num_classes: 2,
            y_true: &[0, 1, 1],
            y_pred: &[2, 2, 2],
            conditions: &[],
        };
        let report = evaluate_codes(&rows, &labels, vec![], &EvaluateOptions::default()).unwrap();
        assert_eq!(report.accuracy, 0.0);
        assert_eq!(report.balanced_accuracy, Some(0.0));
        assert_eq!((report.unknown, report.unknown_rate), (3, 1.0));
        assert_eq!(report.ba_conditions_macro, None);
        assert!(report.per_condition.is_empty());
    }

    #[test]
    fn one_row_with_adjusted_and_bootstrap() {
        let labels = strings(&["a", "b"]);
        let rows = CodedRows {
            num_classes: 2,
            y_true: &[1],
            y_pred: &[1],
            conditions: &[],
        };
        let options = EvaluateOptions {
            adjusted: true,
            bootstrap: Some(BootstrapOptions {
                resamples: 10,
                seed: 1,
                confidence: 0.9,
            }),
        };
        let report = evaluate_codes(&rows, &labels, vec![], &options).unwrap();
        assert_eq!(report.accuracy, 1.0);
        assert_eq!(
            report.balanced_accuracy, None,
            "one class: adjusted undefined"
        );
        assert_eq!(report.bootstrap, None);
        let plain = evaluate_codes(&rows, &labels, vec![], &EvaluateOptions::default()).unwrap();
        assert_eq!(plain.balanced_accuracy, Some(1.0));
        let json = serde_json::to_value(&report).unwrap();
        assert!(json["balanced_accuracy"].is_null());
    }

    #[test]
    fn rejects_empty_and_inconsistent_inputs() {
        let labels = strings(&["a"]);
        let empty = CodedRows {
            num_classes: 1,
            y_true: &[],
            y_pred: &[],
            conditions: &[],
        };
        let options = EvaluateOptions::default();
        assert_eq!(
            evaluate_codes(&empty, &labels, vec![], &options)
                .unwrap_err()
                .code(),
            "E_EMPTY_TABLE"
        );
        let rows = CodedRows {
            num_classes: 2,
            y_true: &[0],
            y_pred: &[0],
            conditions: &[],
        };
        assert!(evaluate_codes(&rows, &labels, vec![], &options).is_err());
        let values = strings(&["x", "x"]);
        let conditions = [ConditionCodes {
            name: "c",
            codes: &[0],
            values: &values,
        }];
        let dup = CodedRows {
            num_classes: 1,
            y_true: &[0],
            y_pred: &[0],
            conditions: &conditions,
        };
        assert!(evaluate_codes(&dup, &labels, vec![], &options).is_err());
    }
}
