//! Parity with scikit-learn on the golden fixture made by scripts/make_metrics_fixture.py.

use std::path::PathBuf;

use opt_native_metrics::{metrics_from_file, MetricsOptions, MetricsReport};
use serde_json::Value;

const TOLERANCE: f64 = 1e-12;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/metrics")
        .join(name)
}

fn expected(dataset: &str) -> Value {
    let text = std::fs::read_to_string(fixture("expected.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all[dataset].clone()
}

fn options(expected: &Value, adjusted: bool) -> MetricsOptions {
    MetricsOptions {
        label_col: "label".into(),
        pred_col: "pred".into(),
        condition_cols: expected["condition_cols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect(),
        adjusted,
        ..MetricsOptions::default()
    }
}

fn close(actual: f64, expected: &Value, what: &str) {
    let expected = expected
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: no number"));
    assert!(
        (actual - expected).abs() <= TOLERANCE,
        "{what}: {actual} vs sklearn {expected}"
    );
}

fn check_plain(report: &MetricsReport, expected: &Value) {
    assert_eq!(report.n, expected["n"].as_u64().unwrap());
    let labels: Vec<&str> = expected["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(report.labels, labels);
    close(report.accuracy, &expected["accuracy"], "accuracy");
    close(
        report.balanced_accuracy.unwrap(),
        &expected["balanced_accuracy"],
        "balanced_accuracy",
    );
    close(report.macro_f1, &expected["macro_f1"], "macro_f1");
    // ours has a trailing unknown column (all zero here); sklearn's matrix is square
    for (ours, theirs) in report
        .confusion
        .iter()
        .zip(expected["confusion"].as_array().unwrap())
    {
        let theirs: Vec<u64> = theirs
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        assert_eq!(&ours[..theirs.len()], &theirs[..]);
        assert_eq!(ours[theirs.len()], 0);
    }
    let conditions = expected["per_condition"].as_object().unwrap();
    for (column, values) in conditions {
        let ours = &report.per_condition[column];
        assert_eq!(ours.len(), values.as_object().unwrap().len(), "{column}");
        for (value, theirs) in values.as_object().unwrap() {
            let mine = &ours[value];
            assert_eq!(mine.n, theirs["n"].as_u64().unwrap());
            close(
                mine.accuracy,
                &theirs["accuracy"],
                &format!("{column}={value} accuracy"),
            );
            close(
                mine.balanced_accuracy.unwrap(),
                &theirs["balanced_accuracy"],
                &format!("{column}={value} balanced_accuracy"),
            );
        }
        close(
            report.ba_conditions_by_column[column].unwrap(),
            &expected["ba_conditions_by_column"][column],
            column,
        );
    }
    close(
        report.ba_conditions_macro.unwrap(),
        &expected["ba_conditions_macro"],
        "ba_conditions_macro",
    );
}

fn check_adjusted(report: &MetricsReport, expected: &Value) {
    close(
        report.balanced_accuracy.unwrap(),
        &expected["balanced_accuracy_adjusted"],
        "balanced_accuracy_adjusted",
    );
    for (column, values) in expected["per_condition"].as_object().unwrap() {
        for (value, theirs) in values.as_object().unwrap() {
            let mine = report.per_condition[column][value].balanced_accuracy;
            match theirs["balanced_accuracy_adjusted"].as_f64() {
                Some(_) => close(mine.unwrap(), &theirs["balanced_accuracy_adjusted"], value),
                None => assert_eq!(mine, None, "{column}={value}: sklearn is not finite"),
            }
        }
    }
}

#[test]
fn multiclass_csv_and_parquet_match_sklearn() {
    let expected = expected("random_multiclass");
    for file in ["random_multiclass.csv", "random_multiclass.parquet"] {
        let report = metrics_from_file(&fixture(file), &options(&expected, false)).unwrap();
        check_plain(&report, &expected);
        let adjusted = metrics_from_file(&fixture(file), &options(&expected, true)).unwrap();
        check_adjusted(&adjusted, &expected);
    }
}

#[test]
fn binary_csv_and_parquet_match_sklearn() {
    let expected = expected("random_binary");
    for file in ["random_binary.csv", "random_binary.parquet"] {
        let report = metrics_from_file(&fixture(file), &options(&expected, false)).unwrap();
        check_plain(&report, &expected);
        let adjusted = metrics_from_file(&fixture(file), &options(&expected, true)).unwrap();
        check_adjusted(&adjusted, &expected);
    }
}
