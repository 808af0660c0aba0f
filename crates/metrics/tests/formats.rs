//! The same small table written as CSV, TSV, JSONL, Parquet and Arrow IPC gives the same report;
//! bad inputs give coded errors.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::ipc::writer::{FileWriter, StreamWriter};
use opt_native_metrics::{
    metrics_from_file, metrics_from_ipc, LabelSet, MetricsOptions, TableFormat,
};
use parquet::arrow::ArrowWriter;

const LABELS: [&str; 6] = [
    "SPEECH",
    "SPEECH",
    "NON-SPEECH",
    "NON-SPEECH",
    "SPEECH",
    "NON-SPEECH",
];
const PREDS: [&str; 6] = [
    "speech.",
    "There is no speech",
    "Non-speech",
    "NONSPEECH",
    "I cannot tell",
    "The audio contains human speech",
];
const SNR: [i64; 6] = [0, 0, 0, 10, 10, 10];

fn batch() -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "label",
            Arc::new(StringArray::from(LABELS.to_vec())) as ArrayRef,
        ),
        (
            "pred",
            Arc::new(StringArray::from(PREDS.to_vec())) as ArrayRef,
        ),
        ("snr", Arc::new(Int64Array::from(SNR.to_vec())) as ArrayRef),
        (
            "other",
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5, 6])) as ArrayRef,
        ),
    ])
    .unwrap()
}

fn options() -> MetricsOptions {
    MetricsOptions {
        label_col: "label".into(),
        pred_col: "pred".into(),
        condition_cols: vec!["snr".into()],
        labels: Some(LabelSet::from_names(["SPEECH", "NON-SPEECH"]).unwrap()),
        normalize: true,
        ..MetricsOptions::default()
    }
}

fn write_text(path: &Path, delimiter: char) {
    let mut text = format!("label{d}pred{d}snr{d}other\n", d = delimiter);
    for i in 0..LABELS.len() {
        text += &format!(
            "{}{d}\"{}\"{d}{}{d}{}\n",
            LABELS[i],
            PREDS[i],
            SNR[i],
            i + 1,
            d = delimiter
        );
    }
    std::fs::write(path, text).unwrap();
}

fn write_jsonl(path: &Path) {
    let lines: Vec<String> = (0..LABELS.len())
        .map(|i| {
            serde_json::json!({"label": LABELS[i], "pred": PREDS[i], "snr": SNR[i], "other": i})
                .to_string()
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn ipc_file_bytes() -> Vec<u8> {
    let batch = batch();
    let mut writer = FileWriter::try_new(Vec::new(), &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.into_inner().unwrap()
}

fn ipc_stream_bytes() -> Vec<u8> {
    let batch = batch();
    let mut writer = StreamWriter::try_new(Vec::new(), &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.into_inner().unwrap()
}

#[test]
fn every_format_gives_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("t.parquet");
    let mut writer =
        ArrowWriter::try_new(File::create(&parquet).unwrap(), batch().schema(), None).unwrap();
    writer.write(&batch()).unwrap();
    writer.close().unwrap();
    let csv = dir.path().join("t.csv");
    write_text(&csv, ',');
    let tsv = dir.path().join("t.tsv");
    write_text(&tsv, '\t');
    let jsonl = dir.path().join("t.jsonl");
    write_jsonl(&jsonl);
    let arrow = dir.path().join("t.arrow");
    std::fs::write(&arrow, ipc_file_bytes()).unwrap();

    let reference = metrics_from_ipc(&ipc_stream_bytes(), &options()).unwrap();
    // hand-computed: preds → S, N, N, N, unknown, S
    // SPEECH rows 0,1,4 → recall 1/3; NON-SPEECH rows 2,3,5 → recall 2/3
    assert_eq!(reference.confusion, vec![vec![1, 1, 1], vec![1, 2, 0]]);
    assert!((reference.balanced_accuracy.unwrap() - 0.5).abs() < 1e-15);
    assert_eq!(reference.unknown, 1);
    assert_eq!(reference.unknown_examples, vec!["I cannot tell"]);
    // snr 0: rows 0-2 → SPEECH 1/2, NON 1/1 → 0.75; snr 10: rows 3-5 → SPEECH 0/1, NON 1/2 → 0.25
    assert_eq!(
        reference.per_condition["snr"]["0"].balanced_accuracy,
        Some(0.75)
    );
    assert_eq!(
        reference.per_condition["snr"]["10"].balanced_accuracy,
        Some(0.25)
    );
    assert_eq!(reference.ba_conditions_macro, Some(0.5));

    assert_eq!(
        metrics_from_ipc(&ipc_file_bytes(), &options()).unwrap(),
        reference
    );
    for path in [&parquet, &csv, &tsv, &jsonl, &arrow] {
        let report = metrics_from_file(path, &options()).unwrap();
        assert_eq!(report, reference, "{}", path.display());
    }
    let forced = MetricsOptions {
        format: Some(TableFormat::Csv),
        ..options()
    };
    let renamed = dir.path().join("t.data");
    std::fs::copy(&csv, &renamed).unwrap();
    assert_eq!(metrics_from_file(&renamed, &forced).unwrap(), reference);
}

#[test]
fn bad_inputs_have_codes() {
    let dir = tempfile::tempdir().unwrap();
    let code = |path: &Path, options: &MetricsOptions| {
        metrics_from_file(path, options).unwrap_err().code()
    };

    assert_eq!(
        code(&dir.path().join("missing.csv"), &options()),
        "E_FILE_NOT_FOUND"
    );

    let csv = dir.path().join("t.csv");
    write_text(&csv, ',');
    let wrong_column = MetricsOptions {
        pred_col: "prediction".into(),
        ..options()
    };
    let err = metrics_from_file(&csv, &wrong_column).unwrap_err();
    assert_eq!(err.code(), "E_MISSING_COLUMN");
    assert!(
        err.to_string()
            .contains("available columns: label, pred, snr, other"),
        "{err}"
    );

    let header_only = dir.path().join("h.csv");
    std::fs::write(&header_only, "label,pred,snr\n").unwrap();
    assert_eq!(code(&header_only, &options()), "E_EMPTY_TABLE");
    let zero_bytes = dir.path().join("z.parquet");
    std::fs::write(&zero_bytes, "").unwrap();
    assert_eq!(code(&zero_bytes, &options()), "E_EMPTY_TABLE");

    let other_labels = MetricsOptions {
        labels: Some(LabelSet::from_names(["YES", "NO"]).unwrap()),
        ..options()
    };
    assert_eq!(code(&csv, &other_labels), "E_UNKNOWN_LABEL");

    let unknown_ext = dir.path().join("t.xlsx");
    std::fs::write(&unknown_ext, "x").unwrap();
    assert_eq!(code(&unknown_ext, &options()), "E_BAD_INPUT");
    let corrupt = dir.path().join("c.parquet");
    std::fs::write(&corrupt, "not parquet at all").unwrap();
    assert_eq!(code(&corrupt, &options()), "E_BAD_INPUT");
    assert_eq!(
        metrics_from_ipc(b"garbage", &options()).unwrap_err().code(),
        "E_BAD_INPUT"
    );
}

#[test]
fn without_label_set_classes_come_from_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "y,p\n1,1\n0,1\n0,0\n2,0\n").unwrap();
    let options = MetricsOptions {
        label_col: "y".into(),
        pred_col: "p".into(),
        ..MetricsOptions::default()
    };
    let report = metrics_from_file(&csv, &options).unwrap();
    assert_eq!(report.labels, vec!["0", "1", "2"]);
    // recalls: 0 → 1/2, 1 → 1/1, 2 → 0/1 → BA 1/2
    assert_eq!(report.balanced_accuracy, Some(0.5));
    assert_eq!(report.unknown, 0);
}
