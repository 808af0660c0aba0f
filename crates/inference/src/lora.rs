//! PEFT LoRA adapters (`adapter_config.json` + `adapter_model.safetensors`): read for Qwen2-Audio
//! (merged into the base weights at load: `W += (alpha / r) · B · A`, or `alpha / √r` with
//! rsLoRA) and read and written by LoRA training (`crate::train`).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{InferenceError, Result};

/// The subset of PEFT's `LoraConfig` that decides the math; anything else that changes it is
/// refused. Serializes to an `adapter_config.json` that PEFT reads.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LoraConfig {
    #[serde(default)]
    pub peft_type: Option<String>,
    pub r: usize,
    pub lora_alpha: f64,
    #[serde(default)]
    pub use_rslora: bool,
    #[serde(default)]
    pub use_dora: bool,
    #[serde(default)]
    pub fan_in_fan_out: bool,
    #[serde(default)]
    pub bias: Option<String>,
    #[serde(default)]
    pub rank_pattern: HashMap<String, serde_json::Value>,
    #[serde(default)]
    pub alpha_pattern: HashMap<String, serde_json::Value>,
    #[serde(default)]
    pub modules_to_save: Option<Vec<String>>,
    /// Module names (`["q_proj", "v_proj"]`) or, in PEFT, a regex string.
    #[serde(default)]
    pub target_modules: Option<serde_json::Value>,
    #[serde(default)]
    pub lora_dropout: f64,
    #[serde(default)]
    pub task_type: Option<String>,
    #[serde(default)]
    pub base_model_name_or_path: Option<String>,
}

impl LoraConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        let refuse = |what: &str| {
            Err(InferenceError::format(format!(
                "LoRA adapter: {what} is not supported"
            )))
        };
        if self.peft_type.as_deref().is_some_and(|t| t != "LORA") {
            return refuse(&format!("peft_type {:?}", self.peft_type));
        }
        if self.r == 0 {
            return refuse("r = 0");
        }
        if self.use_dora {
            return refuse("DoRA (use_dora)");
        }
        if self.fan_in_fan_out {
            return refuse("fan_in_fan_out");
        }
        if self.bias.as_deref().is_some_and(|b| b != "none") {
            return refuse("a trained bias");
        }
        if !self.rank_pattern.is_empty() || !self.alpha_pattern.is_empty() {
            return refuse("rank_pattern/alpha_pattern");
        }
        if self.modules_to_save.as_ref().is_some_and(|m| !m.is_empty()) {
            return refuse("modules_to_save");
        }
        Ok(())
    }

    /// Reads and validates `dir/adapter_config.json`.
    pub fn load(dir: &Path) -> Result<Self> {
        let config_path = dir.join("adapter_config.json");
        let text = std::fs::read_to_string(&config_path)
            .map_err(|e| InferenceError::format(format!("{}: {e}", config_path.display())))?;
        let config: LoraConfig = serde_json::from_str(&text)
            .map_err(|e| InferenceError::format(format!("{}: {e}", config_path.display())))?;
        config.validate()?;
        Ok(config)
    }

    /// Multiplier of `B · A`.
    pub fn scale(&self) -> f64 {
        if self.use_rslora {
            self.lora_alpha / (self.r as f64).sqrt()
        } else {
            self.lora_alpha / self.r as f64
        }
    }
}

/// One adapted linear layer: the checkpoint name of its weight and the low-rank factors.
#[derive(Debug, Clone)]
pub struct LoraDelta {
    pub weight_name: String,
    pub a: Tensor, // (r, in)
    pub b: Tensor, // (out, r)
}

/// A loaded adapter, ready to merge.
#[derive(Debug, Clone)]
pub struct LoraAdapter {
    pub config: LoraConfig,
    pub deltas: Vec<LoraDelta>,
}

impl LoraAdapter {
    /// Reads a PEFT adapter folder.
    pub fn load(dir: &Path) -> Result<Self> {
        let config = LoraConfig::load(dir)?;
        let weights_path = dir.join("adapter_model.safetensors");
        let tensors = candle_core::safetensors::load(&weights_path, &Device::Cpu)
            .map_err(|e| InferenceError::format(format!("{}: {e}", weights_path.display())))?;
        Ok(Self {
            deltas: pair_factors(tensors)?,
            config,
        })
    }

    /// Adds every delta to its base weight in `tensors` (checkpoint names). Fails if a target is
    /// missing or shapes disagree, so a mismatched adapter never half-applies silently.
    pub fn merge_into(&self, tensors: &mut HashMap<String, Tensor>) -> Result<()> {
        let scale = self.config.scale();
        for delta in &self.deltas {
            let base = tensors.get(&delta.weight_name).ok_or_else(|| {
                InferenceError::format(format!(
                    "LoRA target {} is not in the model",
                    delta.weight_name
                ))
            })?;
            let merged = merge_one(base, delta, scale).map_err(|e| {
                InferenceError::format(format!("LoRA target {}: {e}", delta.weight_name))
            })?;
            tensors.insert(delta.weight_name.clone(), merged);
        }
        Ok(())
    }
}

pub(crate) fn merge_one(
    base: &Tensor,
    delta: &LoraDelta,
    scale: f64,
) -> candle_core::Result<Tensor> {
    let device = base.device();
    let a = delta.a.to_device(device)?.to_dtype(DType::F32)?;
    let b = delta.b.to_device(device)?.to_dtype(DType::F32)?;
    let update = (b.matmul(&a)? * scale)?; // (out, in)
    if update.dims() != base.dims() {
        candle_core::bail!(
            "delta shape {:?} vs weight shape {:?}",
            update.dims(),
            base.dims()
        );
    }
    (base.to_dtype(DType::F32)? + update)?.to_dtype(base.dtype())
}

/// Groups `<module>.lora_A.weight` / `<module>.lora_B.weight` pairs by module.
pub(crate) fn pair_factors(tensors: HashMap<String, Tensor>) -> Result<Vec<LoraDelta>> {
    let mut a_factors: HashMap<String, Tensor> = HashMap::new();
    let mut b_factors: HashMap<String, Tensor> = HashMap::new();
    for (name, tensor) in tensors {
        let name = name.replace(".default.", ".");
        if let Some(module) = name.strip_suffix(".lora_A.weight") {
            a_factors.insert(checkpoint_module_name(module), tensor);
        } else if let Some(module) = name.strip_suffix(".lora_B.weight") {
            b_factors.insert(checkpoint_module_name(module), tensor);
        } else {
            return Err(InferenceError::format(format!(
                "LoRA adapter: unexpected tensor {name}"
            )));
        }
    }
    let mut deltas = Vec::with_capacity(a_factors.len());
    for (module, a) in a_factors {
        let b = b_factors.remove(&module).ok_or_else(|| {
            InferenceError::format(format!("LoRA adapter: {module} has lora_A but no lora_B"))
        })?;
        deltas.push(LoraDelta {
            weight_name: format!("{module}.weight"),
            a,
            b,
        });
    }
    if let Some(module) = b_factors.keys().next() {
        return Err(InferenceError::format(format!(
            "LoRA adapter: {module} has lora_B but no lora_A"
        )));
    }
    if deltas.is_empty() {
        return Err(InferenceError::format(
            "LoRA adapter holds no lora_A/lora_B tensors",
        ));
    }
    deltas.sort_by(|x, y| x.weight_name.cmp(&y.weight_name));
    Ok(deltas)
}

/// PEFT names modules by their path in the live model; transformers 5 nests Qwen2-Audio as
/// `model.{audio_tower,multi_modal_projector,language_model}` + `lm_head`, transformers 4 as
/// the checkpoint does. Both map to checkpoint names.
pub fn checkpoint_module_name(peft_module: &str) -> String {
    let name = peft_module
        .strip_prefix("base_model.model.")
        .unwrap_or(peft_module);
    const RENAMES: [(&str, &str); 4] = [
        ("model.language_model.", "language_model.model."),
        ("model.audio_tower.", "audio_tower."),
        ("model.multi_modal_projector.", "multi_modal_projector."),
        ("lm_head", "language_model.lm_head"),
    ];
    for (from, to) in RENAMES {
        if let Some(rest) = name.strip_prefix(from) {
            return format!("{to}{rest}");
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peft_names_of_both_transformers_generations_map_to_checkpoint_names() {
        let cases = [
            (
                "base_model.model.model.language_model.layers.0.self_attn.q_proj",
                "language_model.model.layers.0.self_attn.q_proj",
            ),
            (
                "base_model.model.model.audio_tower.layers.1.fc1",
                "audio_tower.layers.1.fc1",
            ),
            (
                "base_model.model.language_model.model.layers.3.mlp.down_proj",
                "language_model.model.layers.3.mlp.down_proj",
            ),
            (
                "base_model.model.audio_tower.layers.0.self_attn.v_proj",
                "audio_tower.layers.0.self_attn.v_proj",
            ),
            ("base_model.model.lm_head", "language_model.lm_head"),
        ];
        for (peft, expected) in cases {
            assert_eq!(checkpoint_module_name(peft), expected);
        }
    }

    #[test]
    fn merge_adds_scaled_low_rank_product() {
        let base = Tensor::new(&[[1f32, 0.], [0., 1.]], &Device::Cpu).unwrap();
        let delta = LoraDelta {
            weight_name: "w.weight".into(),
            a: Tensor::new(&[[1f32, 2.]], &Device::Cpu).unwrap(), // (1, 2)
            b: Tensor::new(&[[3f32], [4.]], &Device::Cpu).unwrap(), // (2, 1)
        };
        let merged = merge_one(&base, &delta, 0.5)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(merged, vec![vec![2.5, 3.0], vec![2.0, 5.0]]);
    }

    #[test]
    fn dora_and_rank_patterns_are_refused() {
        let json = r#"{"peft_type":"LORA","r":4,"lora_alpha":8,"use_dora":true}"#;
        let cfg: LoraConfig = serde_json::from_str(json).unwrap();
        assert_eq!(cfg.validate().unwrap_err().code(), "E_MODEL_FORMAT");
        let json = r#"{"r":4,"lora_alpha":8,"rank_pattern":{"q_proj":8}}"#;
        let cfg: LoraConfig = serde_json::from_str(json).unwrap();
        assert!(cfg.validate().is_err());
        let json = r#"{"r":4,"lora_alpha":8,"use_rslora":true}"#;
        let cfg: LoraConfig = serde_json::from_str(json).unwrap();
        assert!(cfg.validate().is_ok());
        assert_eq!(cfg.scale(), 4.0);
    }
}
