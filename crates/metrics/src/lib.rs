//! Prompt-evaluation metrics: confusion counts, accuracy, balanced accuracy (scikit-learn
//! semantics), macro-F1, per-condition balanced accuracy and its macro (`BA_conditions` in the
//! OPRO reward), seeded bootstrap intervals, and free-text label normalization, over coded
//! arrays or Parquet/CSV/JSONL/Arrow tables.

pub mod balanced;
pub mod bootstrap;
pub mod classes;
pub mod confusion;
pub mod dataset;
pub mod encode;
pub mod error;
pub mod evaluate;
pub mod labels;
pub mod normalize;
pub mod report;
pub mod table;
pub mod tally;

pub use balanced::{accuracy, balanced_accuracy, macro_f1, recall_per_class};
pub use bootstrap::{bootstrap_balanced_accuracy, BootstrapInterval, BootstrapOptions};
pub use confusion::ConfusionMatrix;
pub use dataset::{metrics_from_batches, metrics_from_file, metrics_from_ipc, MetricsOptions};
pub use error::{MetricsError, Result};
pub use evaluate::{evaluate_codes, EvaluateOptions};
pub use labels::{LabelSet, LabelSpec};
pub use normalize::Normalizer;
pub use report::{ClassReport, ConditionValueReport, MetricsReport};
pub use table::TableFormat;
pub use tally::{CodedRows, ConditionCodes};
