//! What a LoRA run adapts: rank, scale, dropout and the target projections.

use serde::{Deserialize, Serialize};

use crate::error::{InferenceError, Result};

/// A projection of a Qwen2 decoder layer that can carry a LoRA adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    QProj,
    KProj,
    VProj,
    OProj,
    GateProj,
    UpProj,
    DownProj,
}

impl Target {
    pub const ALL: [Target; 7] = [
        Self::QProj,
        Self::KProj,
        Self::VProj,
        Self::OProj,
        Self::GateProj,
        Self::UpProj,
        Self::DownProj,
    ];

    /// PEFT's `target_modules` name (`q_proj`).
    pub fn name(self) -> &'static str {
        match self {
            Self::QProj => "q_proj",
            Self::KProj => "k_proj",
            Self::VProj => "v_proj",
            Self::OProj => "o_proj",
            Self::GateProj => "gate_proj",
            Self::UpProj => "up_proj",
            Self::DownProj => "down_proj",
        }
    }

    /// Path inside a decoder layer (`self_attn.q_proj`).
    pub fn module_path(self) -> String {
        let block = match self {
            Self::QProj | Self::KProj | Self::VProj | Self::OProj => "self_attn",
            _ => "mlp",
        };
        format!("{block}.{}", self.name())
    }

    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| {
                InferenceError::bad_input(format!(
                    "LoRA target '{name}' is not one of q_proj, k_proj, v_proj, o_proj, \
                     gate_proj, up_proj, down_proj"
                ))
            })
    }
}

/// Hyper-parameters of the adapters (PEFT's `LoraConfig` fields of the same names).
#[derive(Debug, Clone, PartialEq)]
pub struct LoraSpec {
    pub r: usize,
    pub alpha: f64,
    /// Probability of zeroing an input of `lora_A` during training (0 = off).
    pub dropout: f64,
    /// rsLoRA: scale `alpha / √r` instead of `alpha / r`.
    pub use_rslora: bool,
    pub targets: Vec<Target>,
    /// Seeds the `lora_A` init and the dropout masks.
    pub seed: u64,
}

impl Default for LoraSpec {
    fn default() -> Self {
        Self {
            r: 8,
            alpha: 16.0,
            dropout: 0.0,
            use_rslora: false,
            targets: Target::ALL.to_vec(),
            seed: 0,
        }
    }
}

impl LoraSpec {
    /// Refuses rank 0, no targets, a dropout outside `[0, 1)` or a non-finite alpha.
    pub fn validated(mut self) -> Result<Self> {
        if self.r == 0 {
            return Err(InferenceError::bad_input("LoRA rank r must be at least 1"));
        }
        if self.targets.is_empty() {
            return Err(InferenceError::bad_input("LoRA needs at least one target"));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(InferenceError::bad_input(format!(
                "LoRA dropout {} is not in [0, 1)",
                self.dropout
            )));
        }
        if !self.alpha.is_finite() || self.alpha <= 0.0 {
            return Err(InferenceError::bad_input("LoRA alpha must be positive"));
        }
        self.targets.sort();
        self.targets.dedup();
        Ok(self)
    }

    /// Multiplier of `B · A · x`.
    pub fn scale(&self) -> f64 {
        if self.use_rslora {
            self.alpha / (self.r as f64).sqrt()
        } else {
            self.alpha / self.r as f64
        }
    }
}
