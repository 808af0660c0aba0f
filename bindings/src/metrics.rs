//! Metrics bindings: converts JS options and typed arrays to `opt_native_metrics` types and back.
//! Errors cross as `[E_CODE] message`; panics as `[E_NATIVE_PANIC] …`.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use napi::bindgen_prelude::{AsyncTask, Buffer, Float64Array, ToNapiValue, TypeName, Uint32Array};
use napi::{sys, Env, Task, ValueType};
use napi_derive::napi;
use opt_native_metrics as metrics;
use serde_json::Value;

use crate::panic::panic_detail;

fn to_napi(error: metrics::MetricsError) -> napi::Error {
    let message = opt_native_inference::error::one_line(&error.to_string());
    napi::Error::from_reason(format!("[{}] {message}", error.code()))
}

/// Runs `work`, turning a core error into a coded JS error and a panic into `E_NATIVE_PANIC`.
fn guarded<T>(work: impl FnOnce() -> metrics::Result<T>) -> napi::Result<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result.map_err(to_napi),
        Err(panic) => Err(napi::Error::from_reason(format!(
            "[E_NATIVE_PANIC] the native metrics code panicked: {}",
            panic_detail(panic.as_ref())
        ))),
    }
}

fn to_json(report: &metrics::MetricsReport) -> metrics::Result<Value> {
    serde_json::to_value(report)
        .map_err(|e| metrics::MetricsError::BadInput(format!("cannot serialize the report: {e}")))
}

/// Which table columns to score and how. Field names mirror the `opt-native metrics` flags.
#[napi(object)]
pub struct MetricsOptions {
    /// Column with the true labels.
    pub label_col: String,
    /// Column with the model's predictions (labels or free text).
    pub pred_col: String,
    /// Columns whose values define conditions (e.g. `['snr', 'duration']`).
    pub condition_cols: Option<Vec<String>>,
    /// Fixed label set, in class order (e.g. `['SPEECH', 'NON-SPEECH']`). True labels outside it
    /// are an `E_UNKNOWN_LABEL` error; predictions outside it count as `unknown`.
    pub labels: Option<Vec<String>>,
    /// Extra phrases per label, e.g. `{ SPEECH: ['voice', 'talking'] }`.
    pub synonyms: Option<HashMap<String, Vec<String>>>,
    /// What a negated mention of a label means, e.g. `{ MUSIC: 'SPEECH' }`. `NON-X`/`X` pairs and
    /// two-label sets are paired automatically.
    pub negations: Option<HashMap<String, String>>,
    /// Map free-text predictions ("There is no speech") to labels.
    pub normalize: Option<bool>,
    /// Chance-adjusted balanced accuracy (scikit-learn `adjusted=True`).
    pub adjusted: Option<bool>,
    /// Number of bootstrap resamples for a balanced-accuracy interval (0 or absent: none).
    pub bootstrap: Option<u32>,
    /// Seed of the bootstrap (default 0).
    pub seed: Option<u32>,
    /// Coverage of the bootstrap interval (default 0.95).
    pub confidence: Option<f64>,
    /// Table format when the extension does not tell: parquet, csv, tsv, jsonl or arrow.
    pub format: Option<String>,
}

/// A label set for `normalizeLabels`.
#[napi(object)]
pub struct LabelSetOptions {
    /// Label names in class order.
    pub labels: Vec<String>,
    /// Extra phrases per label.
    pub synonyms: Option<HashMap<String, Vec<String>>>,
    /// What a negated mention of a label means.
    pub negations: Option<HashMap<String, String>>,
}

/// Scoring options for coded arrays.
#[napi(object)]
pub struct ScoreOptions {
    pub adjusted: Option<bool>,
    pub bootstrap: Option<u32>,
    pub seed: Option<u32>,
    pub confidence: Option<f64>,
}

/// One condition column as codes into `values`.
#[napi(object)]
pub struct ConditionCodesInput {
    pub name: String,
    /// `codes[i]` indexes `values` for row `i`.
    pub codes: Uint32Array,
    pub values: Vec<String>,
}

/// Rows already encoded as class codes (the fast path: no strings cross per row).
#[napi(object)]
pub struct CodedRowsInput {
    /// True class of each row, `0..labels.length`.
    pub y_true: Uint32Array,
    /// Predicted class of each row; `labels.length` means `unknown` (counted wrong).
    pub y_pred: Uint32Array,
    /// Class names.
    pub labels: Vec<String>,
    pub conditions: Option<Vec<ConditionCodesInput>>,
}

fn label_set(
    names: Vec<String>,
    synonyms: Option<HashMap<String, Vec<String>>>,
    negations: Option<HashMap<String, String>>,
) -> metrics::Result<metrics::LabelSet> {
    let mut synonyms = synonyms.unwrap_or_default();
    let mut negations = negations.unwrap_or_default();
    let known: Vec<&String> = synonyms.keys().chain(negations.keys()).collect();
    if let Some(stray) = known.into_iter().find(|key| !names.contains(key)) {
        return Err(metrics::MetricsError::BadInput(format!(
            "synonyms/negations name `{stray}`, which is not in labels"
        )));
    }
    let specs = names
        .into_iter()
        .map(|name| metrics::LabelSpec {
            synonyms: synonyms.remove(&name).unwrap_or_default(),
            negation: negations.remove(&name),
            name,
        })
        .collect();
    metrics::LabelSet::from_specs(specs)
}

fn bootstrap_options(
    resamples: Option<u32>,
    seed: Option<u32>,
    confidence: Option<f64>,
) -> Option<metrics::BootstrapOptions> {
    resamples
        .filter(|&r| r > 0)
        .map(|resamples| metrics::BootstrapOptions {
            resamples: resamples as usize,
            seed: u64::from(seed.unwrap_or(0)),
            confidence: confidence.unwrap_or(metrics::BootstrapOptions::DEFAULT_CONFIDENCE),
        })
}

impl TryFrom<MetricsOptions> for metrics::MetricsOptions {
    type Error = metrics::MetricsError;

    fn try_from(options: MetricsOptions) -> metrics::Result<Self> {
        let labels = options
            .labels
            .map(|names| label_set(names, options.synonyms, options.negations))
            .transpose()?;
        Ok(metrics::MetricsOptions {
            label_col: options.label_col,
            pred_col: options.pred_col,
            condition_cols: options.condition_cols.unwrap_or_default(),
            labels,
            normalize: options.normalize.unwrap_or(false),
            adjusted: options.adjusted.unwrap_or(false),
            bootstrap: bootstrap_options(options.bootstrap, options.seed, options.confidence),
            format: options
                .format
                .as_deref()
                .map(metrics::TableFormat::parse)
                .transpose()?,
        })
    }
}

/// A report handed to JS as a plain object (built from its JSON form).
pub struct ReportObject(Value);

impl TypeName for ReportObject {
    fn type_name() -> &'static str {
        "Object"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for ReportObject {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        // SAFETY: forwarded with the caller's guarantee that `env` is valid.
        unsafe { Value::to_napi_value(env, val.0) }
    }
}

/// Where the table comes from.
pub enum TableSource {
    File(PathBuf),
    Ipc(Buffer),
}

/// Reads and scores a table on the libuv thread pool.
pub struct ScoreTableTask {
    source: TableSource,
    options: Option<MetricsOptions>,
}

impl Task for ScoreTableTask {
    type Output = Value;
    type JsValue = ReportObject;

    fn compute(&mut self) -> napi::Result<Value> {
        let options = self.options.take();
        let source = &self.source;
        guarded(|| {
            let options = options
                .ok_or_else(|| metrics::MetricsError::BadInput("task already ran".into()))?
                .try_into()?;
            let report = match source {
                TableSource::File(path) => metrics::metrics_from_file(path, &options)?,
                TableSource::Ipc(bytes) => metrics::metrics_from_ipc(bytes, &options)?,
            };
            to_json(&report)
        })
    }

    fn resolve(&mut self, _env: Env, output: Value) -> napi::Result<ReportObject> {
        Ok(ReportObject(output))
    }
}

/// Scores a Parquet, CSV, TSV, JSONL or Arrow IPC file (format from the extension or
/// `options.format`). Resolves to the report printed by `opt-native metrics --json`; rejects with
/// `[E_FILE_NOT_FOUND]`, `[E_MISSING_COLUMN]`, `[E_EMPTY_TABLE]`, `[E_UNKNOWN_LABEL]` or
/// `[E_BAD_INPUT]` errors.
#[napi(ts_return_type = "Promise<Record<string, unknown>>")]
pub fn metrics_from_file(path: String, options: MetricsOptions) -> AsyncTask<ScoreTableTask> {
    AsyncTask::new(ScoreTableTask {
        source: TableSource::File(PathBuf::from(path)),
        options: Some(options),
    })
}

/// Scores an Arrow IPC buffer (stream or file format, e.g. from apache-arrow `tableToIPC`).
#[napi(ts_return_type = "Promise<Record<string, unknown>>")]
pub fn metrics_from_arrow(ipc: Buffer, options: MetricsOptions) -> AsyncTask<ScoreTableTask> {
    AsyncTask::new(ScoreTableTask {
        source: TableSource::Ipc(ipc),
        options: Some(options),
    })
}

/// Scores rows given as class codes (synchronous; typed arrays are read in place).
#[napi(ts_return_type = "Record<string, unknown>")]
pub fn metrics_from_codes(
    input: CodedRowsInput,
    options: Option<ScoreOptions>,
) -> napi::Result<Value> {
    guarded(|| {
        let conditions = input.conditions.unwrap_or_default();
        let condition_codes: Vec<metrics::ConditionCodes<'_>> = conditions
            .iter()
            .map(|c| metrics::ConditionCodes {
                name: &c.name,
                codes: &c.codes,
                values: &c.values,
            })
            .collect();
        let rows = metrics::CodedRows {
            num_classes: input.labels.len(),
            y_true: &input.y_true,
            y_pred: &input.y_pred,
            conditions: &condition_codes,
        };
        let evaluate = options.map_or_else(metrics::EvaluateOptions::default, |o| {
            metrics::EvaluateOptions {
                adjusted: o.adjusted.unwrap_or(false),
                bootstrap: bootstrap_options(o.bootstrap, o.seed, o.confidence),
            }
        });
        let report = metrics::evaluate_codes(&rows, &input.labels, Vec::new(), &evaluate)?;
        to_json(&report)
    })
}

/// Balanced accuracy of class codes (scikit-learn semantics; `yPred[i] == numClasses` is
/// `unknown`). `null` when it is undefined (no rows, or `adjusted` with one class present).
#[napi]
pub fn balanced_accuracy(
    y_true: Uint32Array,
    y_pred: Uint32Array,
    num_classes: u32,
    adjusted: Option<bool>,
) -> napi::Result<Option<f64>> {
    guarded(|| {
        let matrix = metrics::ConfusionMatrix::from_codes(num_classes as usize, &y_true, &y_pred)?;
        Ok(metrics::balanced_accuracy(
            &matrix,
            adjusted.unwrap_or(false),
        ))
    })
}

/// Confusion counts, row-major `numClasses × (numClasses + 1)`; the last column counts `unknown`.
#[napi]
pub fn confusion_matrix(
    y_true: Uint32Array,
    y_pred: Uint32Array,
    num_classes: u32,
) -> napi::Result<Float64Array> {
    let counts = guarded(|| {
        let matrix = metrics::ConfusionMatrix::from_codes(num_classes as usize, &y_true, &y_pred)?;
        Ok(matrix
            .counts()
            .iter()
            .map(|&c| c as f64)
            .collect::<Vec<f64>>())
    })?;
    Ok(Float64Array::new(counts))
}

/// Maps free-text model outputs to labels; `null` where the text is unparseable or contradictory.
#[napi]
pub fn normalize_labels(
    texts: Vec<String>,
    label_set_options: LabelSetOptions,
) -> napi::Result<Vec<Option<String>>> {
    guarded(|| {
        let set = label_set(
            label_set_options.labels,
            label_set_options.synonyms,
            label_set_options.negations,
        )?;
        let names = set.names();
        let normalizer = metrics::Normalizer::new(set);
        Ok(texts
            .iter()
            .map(|text| normalizer.normalize(text).map(|i| names[i].clone()))
            .collect())
    })
}
