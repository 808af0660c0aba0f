//! A PEFT LoRA adapter for the Qwen2 text model, checked once at load against the decoder's
//! config, so a mismatched adapter fails with a coded error before any weight is touched and
//! never half-applies.

use std::collections::HashMap;
use std::path::Path;

use crate::config::DecoderConfig;
use crate::error::{InferenceError, Result};
use crate::loader::guarded;
use crate::lora::{LoraAdapter, LoraConfig, LoraDelta};
use crate::train::adapter::parse_module;
use crate::train::spec::Target;
use crate::types::AdapterInfo;

/// A validated adapter: its deltas by checkpoint weight name (`model.layers.0.mlp.up_proj.weight`).
#[derive(Debug)]
pub struct TextAdapter {
    config: LoraConfig,
    deltas: HashMap<String, LoraDelta>,
    targets: Vec<Target>,
    path: String,
}

impl TextAdapter {
    /// Reads `dir` (`adapter_config.json` + `adapter_model.safetensors`). A missing folder is
    /// `E_MODEL_NOT_FOUND`; anything that does not fit `cfg` (unknown target, wrong layer, shapes,
    /// rank 0, corrupt files) is `E_MODEL_FORMAT`.
    pub fn load(dir: &Path, cfg: &DecoderConfig) -> Result<Self> {
        if !dir.is_dir() {
            return Err(InferenceError::ModelNotFound {
                path: dir.to_path_buf(),
                reason: "no such adapter folder".into(),
            });
        }
        let adapter = guarded("LoRA adapter", || LoraAdapter::load(dir))?;
        let listed = listed_targets(&adapter.config)?;
        let mut deltas = HashMap::new();
        let mut targets = Vec::new();
        for delta in adapter.deltas {
            let (layer, target) = parse_module(&delta.weight_name)?;
            check_delta(&delta, layer, target, adapter.config.r, cfg)?;
            if listed.as_ref().is_some_and(|l| !l.contains(&target)) {
                return Err(InferenceError::format(format!(
                    "LoRA adapter: {} is not among adapter_config.json's target_modules",
                    delta.weight_name
                )));
            }
            targets.push(target);
            deltas.insert(delta.weight_name.clone(), delta);
        }
        targets.sort();
        targets.dedup();
        Ok(Self {
            config: adapter.config,
            deltas,
            targets,
            path: dir.display().to_string(),
        })
    }

    /// The factors for checkpoint weight `name` and the scale of `B·A`, if the adapter targets it.
    pub fn delta(&self, name: &str) -> Option<(&LoraDelta, f64)> {
        self.deltas.get(name).map(|d| (d, self.config.scale()))
    }

    pub fn config(&self) -> &LoraConfig {
        &self.config
    }

    /// What `ModelInfo` reports; `merged` says whether the update went into the weights.
    pub fn info(&self, merged: bool) -> AdapterInfo {
        AdapterInfo {
            path: self.path.clone(),
            rank: self.config.r,
            alpha: self.config.lora_alpha,
            use_rslora: self.config.use_rslora,
            scale: self.config.scale(),
            targets: self.targets.iter().map(|t| t.name().to_string()).collect(),
            merged,
        }
    }
}

/// `target_modules` as a list of Qwen2 projections; `None` for PEFT's regex form (then the
/// tensors' own names decide). A name this architecture lacks is refused.
fn listed_targets(config: &LoraConfig) -> Result<Option<Vec<Target>>> {
    let Some(serde_json::Value::Array(names)) = &config.target_modules else {
        return Ok(None);
    };
    names
        .iter()
        .map(|name| {
            let name = name.as_str().unwrap_or_default();
            Target::from_name(name).map_err(|_| {
                InferenceError::format(format!(
                    "LoRA adapter: target module '{name}' is not a Qwen2 text decoder projection \
                     (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// `lora_A` must be `(r, in)` and `lora_B` `(out, r)` for this projection of this config.
fn check_delta(
    delta: &LoraDelta,
    layer: usize,
    target: Target,
    r: usize,
    cfg: &DecoderConfig,
) -> Result<()> {
    let name = &delta.weight_name;
    if layer >= cfg.num_layers {
        return Err(InferenceError::format(format!(
            "LoRA target {name}: the model has {} layers",
            cfg.num_layers
        )));
    }
    let (out, inp) = projection_dims(target, cfg);
    let (a, b) = (delta.a.dims(), delta.b.dims());
    if a != [r, inp] || b != [out, r] {
        return Err(InferenceError::format(format!(
            "LoRA target {name}: lora_A {a:?} and lora_B {b:?} do not fit r = {r} and the \
             weight ({out}, {inp}); is the adapter for another model?"
        )));
    }
    Ok(())
}

/// `(out, in)` of a projection.
fn projection_dims(target: Target, cfg: &DecoderConfig) -> (usize, usize) {
    let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
    let (q, kv) = (
        cfg.num_heads * cfg.head_dim,
        cfg.num_kv_heads * cfg.head_dim,
    );
    match target {
        Target::QProj => (q, h),
        Target::KProj | Target::VProj => (kv, h),
        Target::OProj => (h, q),
        Target::GateProj | Target::UpProj => (i, h),
        Target::DownProj => (h, i),
    }
}
