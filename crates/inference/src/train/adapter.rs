//! PEFT adapter folders for the training model: `adapter_config.json` +
//! `adapter_model.safetensors` with PEFT's names
//! (`base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight`). Reading goes through the
//! shared PEFT loader (`crate::lora`, also used by Qwen2-Audio).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};

use super::lora_linear::LoraFactors;
use super::model::TrainModel;
use super::spec::{LoraSpec, Target};
use crate::config::DecoderConfig;
use crate::error::{InferenceError, Result};
use crate::lora::{LoraAdapter, LoraConfig};
use crate::weights::Weights;

const PEFT_PREFIX: &str = "base_model.model.";

/// PEFT's `adapter_config.json` for `spec`.
pub fn peft_config(spec: &LoraSpec, base_model: Option<&str>) -> LoraConfig {
    let targets: Vec<&str> = spec.targets.iter().map(|t| t.name()).collect();
    LoraConfig {
        peft_type: Some("LORA".to_string()),
        r: spec.r,
        lora_alpha: spec.alpha,
        use_rslora: spec.use_rslora,
        use_dora: false,
        fan_in_fan_out: false,
        bias: Some("none".to_string()),
        rank_pattern: HashMap::new(),
        alpha_pattern: HashMap::new(),
        modules_to_save: None,
        target_modules: Some(serde_json::json!(targets)),
        lora_dropout: spec.dropout,
        task_type: Some("CAUSAL_LM".to_string()),
        base_model_name_or_path: base_model.map(str::to_string),
    }
}

/// Writes `dir/adapter_config.json` and `dir/adapter_model.safetensors` (f32).
pub fn save_adapter(model: &TrainModel, dir: &Path, base_model: Option<&str>) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let config = peft_config(model.spec(), base_model);
    let json = serde_json::to_string_pretty(&config)
        .map_err(|e| InferenceError::Runtime(e.to_string()))?;
    let config_path = dir.join("adapter_config.json");
    std::fs::write(&config_path, json).map_err(|e| io_error(&config_path, e))?;
    let mut tensors = HashMap::new();
    for named in model.factors() {
        let name = |factor: &str| format!("{PEFT_PREFIX}{}.{factor}.weight", named.module);
        let f32 = |v: &Var| v.as_tensor().to_dtype(DType::F32)?.to_device(&Device::Cpu);
        tensors.insert(name("lora_A"), f32(&named.factors.a)?);
        tensors.insert(name("lora_B"), f32(&named.factors.b)?);
    }
    let weights_path = dir.join("adapter_model.safetensors");
    candle_core::safetensors::save(&tensors, &weights_path)?;
    Ok(())
}

/// Builds the training model from `vb` with the adapter in `dir` (to resume training or to
/// score with it). Refuses an adapter whose modules or shapes do not fit this decoder.
pub fn load_with_adapter(
    cfg: &DecoderConfig,
    vb: &Weights,
    dir: &Path,
    dtype: DType,
    device: &Device,
) -> Result<TrainModel> {
    let adapter = LoraAdapter::load(dir)?;
    let placed = place_deltas(&adapter)?;
    let spec = LoraSpec {
        r: adapter.config.r,
        alpha: adapter.config.lora_alpha,
        dropout: adapter.config.lora_dropout,
        use_rslora: adapter.config.use_rslora,
        targets: placed.iter().map(|p| p.1).collect(),
        seed: 0,
    };
    let mut model = TrainModel::new(cfg, vb, spec, dtype, device)?;
    let scale = model.spec().scale();
    for (layer, target, a, b) in placed {
        let factors = LoraFactors {
            a: Var::from_tensor(&a.to_dtype(dtype)?.to_device(device)?)?,
            b: Var::from_tensor(&b.to_dtype(dtype)?.to_device(device)?)?,
            scale,
        };
        model.set_factors(layer, target, factors)?;
    }
    Ok(model)
}

type Placed = (usize, Target, Tensor, Tensor);

/// Each delta's (layer, target); the rank of every factor must be the config's `r`.
fn place_deltas(adapter: &LoraAdapter) -> Result<Vec<Placed>> {
    adapter
        .deltas
        .iter()
        .map(|delta| {
            let (layer, target) = parse_module(&delta.weight_name)?;
            let rank = delta.a.dims().first().copied();
            if rank != Some(adapter.config.r) || delta.b.dims().get(1).copied() != rank {
                return Err(InferenceError::format(format!(
                    "LoRA target {}: factors of rank {rank:?}, adapter_config says r = {}",
                    delta.weight_name, adapter.config.r
                )));
            }
            Ok((layer, target, delta.a.clone(), delta.b.clone()))
        })
        .collect()
}

/// `model.layers.{i}.{self_attn|mlp}.{name}.weight` -> (i, target).
pub(crate) fn parse_module(weight_name: &str) -> Result<(usize, Target)> {
    let not_qwen2 = || {
        InferenceError::format(format!(
            "LoRA target {weight_name} is not a projection of a Qwen2 text decoder"
        ))
    };
    let rest = weight_name
        .strip_prefix("model.layers.")
        .and_then(|r| r.strip_suffix(".weight"))
        .ok_or_else(not_qwen2)?;
    let (layer, module) = rest.split_once('.').ok_or_else(not_qwen2)?;
    let layer: usize = layer.parse().map_err(|_| not_qwen2())?;
    let target = Target::ALL
        .into_iter()
        .find(|t| t.module_path() == module)
        .ok_or_else(not_qwen2)?;
    Ok((layer, target))
}

fn io_error(path: &Path, e: std::io::Error) -> InferenceError {
    InferenceError::Runtime(format!("{}: {e}", path.display()))
}
