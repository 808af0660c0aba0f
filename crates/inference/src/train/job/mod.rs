//! The fine-tuning job behind `opt-native finetune` and the Node `finetune()`: base model and
//! chat data in, a PEFT adapter, its loss curve and a summary out, resumable from checkpoints.

mod best;
mod config;
mod dataset;
mod eval;
mod exact;
mod outputs;
mod run;
mod setup;
mod state;
mod svg;

pub use best::BestBy;
pub use config::{parse_targets, FinetuneConfig};
pub use outputs::TrainSummary;
pub use run::{run_finetune, Progress};
pub use state::CurveRow;
