//! A resumable checkpoint: the PEFT adapter, the AdamW moments (`optimizer.safetensors`) and
//! `trainer_state.json` (steps taken, seed). Written into a sibling folder and renamed into
//! place, so a run killed mid-write keeps its previous checkpoint.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};

use super::adapter::{load_with_adapter, save_adapter};
use super::model::TrainModel;
use super::trainer::{Trainer, TrainerConfig};
use crate::config::DecoderConfig;
use crate::error::{InferenceError, Result};
use crate::weights::Weights;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimizer steps taken when the checkpoint was written.
    pub step: usize,
    /// The run's seed (adapter init, dropout masks).
    pub seed: u64,
}

/// Writes `dir` (replacing an older checkpoint there only once the new one is complete).
pub fn save_checkpoint(
    dir: &Path,
    model: &TrainModel,
    trainer: &Trainer,
    base_model: Option<&str>,
) -> Result<()> {
    save_checkpoint_with(dir, model, trainer, base_model, &[])
}

/// `save_checkpoint` plus caller files (name, bytes) that land in `dir` in the same rename, so
/// they always describe the same step as the adapter (the fine-tuning job's loss history).
pub fn save_checkpoint_with(
    dir: &Path,
    model: &TrainModel,
    trainer: &Trainer,
    base_model: Option<&str>,
    extra_files: &[(&str, &[u8])],
) -> Result<()> {
    write_atomically(dir, model, base_model, |partial| {
        let state_path = partial.join("optimizer.safetensors");
        candle_core::safetensors::save(&trainer.optimizer.state_tensors(), &state_path)?;
        let state = TrainerState {
            step: trainer.steps_taken(),
            seed: model.spec().seed,
        };
        let json = serde_json::to_string_pretty(&state).map_err(|e| io_error(dir, e.into()))?;
        let state_path = partial.join("trainer_state.json");
        std::fs::write(&state_path, json).map_err(|e| io_error(&state_path, e))?;
        write_files(partial, extra_files)
    })
}

/// The adapter and `extra_files`, written beside `dir` and swapped in: a kill never leaves half
/// of one.
pub fn save_adapter_atomically(
    dir: &Path,
    model: &TrainModel,
    base_model: Option<&str>,
    extra_files: &[(&str, &[u8])],
) -> Result<()> {
    write_atomically(dir, model, base_model, |partial| {
        write_files(partial, extra_files)
    })
}

/// The adapter and what `fill` adds, written into a fresh sibling of `dir` and renamed into place.
fn write_atomically(
    dir: &Path,
    model: &TrainModel,
    base_model: Option<&str>,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let partial = sibling(dir, "partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| io_error(&partial, e))?;
    }
    save_adapter(model, &partial, base_model)?;
    fill(&partial)?;
    replace_dir(&partial, dir)
}

fn write_files(dir: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| io_error(&path, e))?;
    }
    Ok(())
}

/// Rebuilds the model and trainer a checkpoint was written from.
pub fn load_checkpoint(
    dir: &Path,
    cfg: &DecoderConfig,
    vb: &Weights,
    trainer_config: &TrainerConfig,
    dtype: DType,
    device: &Device,
) -> Result<(TrainModel, Trainer)> {
    let dir = existing_checkpoint(dir)?;
    let state_path = dir.join("trainer_state.json");
    let text = std::fs::read_to_string(&state_path).map_err(|e| format_error(&state_path, e))?;
    let state: TrainerState =
        serde_json::from_str(&text).map_err(|e| format_error(&state_path, e))?;
    let mut model = load_with_adapter(cfg, vb, &dir, dtype, device)?;
    model.set_seed(state.seed);
    let mut trainer = Trainer::new(&model, trainer_config)?;
    let moments_path = dir.join("optimizer.safetensors");
    let moments = candle_core::safetensors::load(&moments_path, device)
        .map_err(|e| format_error(&moments_path, e))?;
    trainer.optimizer.restore(&moments, state.step)?;
    Ok((model, trainer))
}

/// `dir`, or the previous checkpoint left at `dir.old` by a kill between the two renames.
pub fn existing_checkpoint(dir: &Path) -> Result<PathBuf> {
    let old = sibling(dir, "old");
    if dir.join("trainer_state.json").is_file() {
        Ok(dir.to_path_buf())
    } else if old.join("trainer_state.json").is_file() {
        Ok(old)
    } else {
        Err(InferenceError::bad_input(format!(
            "{}: no checkpoint to resume from",
            dir.display()
        )))
    }
}

fn replace_dir(from: &Path, to: &Path) -> Result<()> {
    let old = sibling(to, "old");
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| io_error(&old, e))?;
    }
    if to.exists() {
        std::fs::rename(to, &old).map_err(|e| io_error(to, e))?;
    }
    std::fs::rename(from, to).map_err(|e| io_error(from, e))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| io_error(&old, e))?;
    }
    Ok(())
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

fn io_error(path: &Path, e: std::io::Error) -> InferenceError {
    InferenceError::Runtime(format!("{}: {e}", path.display()))
}

fn format_error(path: &Path, e: impl std::fmt::Display) -> InferenceError {
    InferenceError::format(format!("checkpoint {}: {e}", path.display()))
}
