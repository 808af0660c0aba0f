//! End to end over a table: read the named columns, encode them, map labels, score.

use std::path::Path;

use arrow::array::RecordBatch;

use crate::bootstrap::BootstrapOptions;
use crate::classes::map_classes;
use crate::encode::{encode_column, EncodedColumn};
use crate::error::{MetricsError, Result};
use crate::evaluate::{evaluate_codes, EvaluateOptions};
use crate::labels::LabelSet;
use crate::report::MetricsReport;
use crate::table::{read_file, read_ipc_bytes, TableFormat};
use crate::tally::{CodedRows, ConditionCodes};

/// What to score in a table.
#[derive(Debug, Clone, Default)]
pub struct MetricsOptions {
    pub label_col: String,
    pub pred_col: String,
    pub condition_cols: Vec<String>,
    /// Fixed classes (in this order); otherwise they come from the data.
    pub labels: Option<LabelSet>,
    /// Map free-text predictions to labels (see [`crate::Normalizer`]).
    pub normalize: bool,
    pub adjusted: bool,
    pub bootstrap: Option<BootstrapOptions>,
    /// Overrides the format implied by the file extension.
    pub format: Option<TableFormat>,
}

impl MetricsOptions {
    fn columns(&self) -> Vec<&str> {
        let mut columns = vec![self.label_col.as_str(), self.pred_col.as_str()];
        columns.extend(self.condition_cols.iter().map(String::as_str));
        columns
    }

    fn validate(&self) -> Result<()> {
        if self.label_col.is_empty() || self.pred_col.is_empty() {
            return Err(MetricsError::bad_input(
                "both a label column and a prediction column are required",
            ));
        }
        Ok(())
    }
}

/// Reads `path` (Parquet, CSV, TSV, JSONL or Arrow IPC) and scores it.
pub fn metrics_from_file(path: &Path, options: &MetricsOptions) -> Result<MetricsReport> {
    options.validate()?;
    let batches = read_file(path, options.format, &options.columns())?;
    metrics_from_batches(&batches, options)
}

/// Scores an Arrow IPC buffer (stream or file format).
pub fn metrics_from_ipc(bytes: &[u8], options: &MetricsOptions) -> Result<MetricsReport> {
    options.validate()?;
    let batches = read_ipc_bytes(bytes, &options.columns())?;
    metrics_from_batches(&batches, options)
}

/// Scores record batches that contain the option's columns.
pub fn metrics_from_batches(
    batches: &[RecordBatch],
    options: &MetricsOptions,
) -> Result<MetricsReport> {
    options.validate()?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Err(MetricsError::EmptyTable);
    }
    let truth = encode_column(batches, &options.label_col)?;
    let pred = encode_column(batches, &options.pred_col)?;
    let conditions = options
        .condition_cols
        .iter()
        .map(|name| encode_column(batches, name))
        .collect::<Result<Vec<EncodedColumn>>>()?;
    let mapping = map_classes(&truth, &pred, options.labels.as_ref(), options.normalize)?;
    let y_true = remap(&truth.codes, &mapping.true_classes);
    let y_pred = remap(&pred.codes, &mapping.pred_classes);
    let condition_codes: Vec<ConditionCodes<'_>> = options
        .condition_cols
        .iter()
        .zip(&conditions)
        .map(|(name, column)| ConditionCodes {
            name,
            codes: &column.codes,
            values: &column.values,
        })
        .collect();
    let rows = CodedRows {
        num_classes: mapping.names.len(),
        y_true: &y_true,
        y_pred: &y_pred,
        conditions: &condition_codes,
    };
    let evaluate = EvaluateOptions {
        adjusted: options.adjusted,
        bootstrap: options.bootstrap,
    };
    evaluate_codes(&rows, &mapping.names, mapping.unknown_examples, &evaluate)
}

fn remap(codes: &[u32], classes: &[u32]) -> Vec<u32> {
    codes.iter().map(|&c| classes[c as usize]).collect()
}
