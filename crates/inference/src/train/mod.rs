//! LoRA fine-tuning of the Qwen2 decoder: a differentiable training forward with adapters on
//! any of q/k/v/o/gate/up/down, completion-only loss over ChatML examples, AdamW with warm-up,
//! clipping and accumulation, and PEFT-format adapters and checkpoints.

pub mod adapter;
pub mod checkpoint;
pub mod data;
pub mod job;
mod layer;
pub mod lora_linear;
pub mod model;
pub mod ops;
pub mod optim;
pub mod schedule;
pub mod spec;
pub mod trainer;

pub use data::{
    parse_chat_jsonl, parse_chat_jsonl_numbered, tokenize_chat, TokenBatch, TokenizedExample,
};
pub use job::{run_finetune, BestBy, FinetuneConfig, Progress, TrainSummary};
pub use model::{BatchEval, TrainModel};
pub use optim::{AdamW, AdamWConfig, LrSchedule};
pub use schedule::BatchPlan;
pub use spec::{LoraSpec, Target};
pub use trainer::{StepReport, Trainer, TrainerConfig};
