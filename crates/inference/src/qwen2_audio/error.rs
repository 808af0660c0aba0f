//! Errors of the Qwen2-Audio model; codes match the crate's `InferenceError` codes.

use crate::audio::AudioError;
use crate::error::InferenceError;

#[derive(Debug, thiserror::Error)]
pub enum Qwen2AudioError {
    /// Undecodable, empty or too-short audio.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// Missing/corrupt weights, config or adapter, or an unsupported configuration.
    #[error("bad model file: {0}")]
    ModelFormat(String),
    /// A request the model cannot serve (no audio placeholder, empty labels, ...).
    #[error("bad input: {0}")]
    BadInput(String),
    /// The shared decoder (config, weights, run time) failed; keeps its code.
    #[error(transparent)]
    Decoder(#[from] InferenceError),
    /// A tensor operation failed at run time.
    #[error("inference failed: {0}")]
    Runtime(#[from] candle_core::Error),
}

impl Qwen2AudioError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Audio(e) => e.code(),
            Self::ModelFormat(_) => "E_MODEL_FORMAT",
            Self::BadInput(_) => "E_BAD_INPUT",
            Self::Decoder(e) => e.code(),
            Self::Runtime(_) => "E_INFERENCE",
        }
    }

    pub(crate) fn format(msg: impl std::fmt::Display) -> Self {
        Self::ModelFormat(msg.to_string())
    }

    pub(crate) fn bad_input(msg: impl std::fmt::Display) -> Self {
        Self::BadInput(msg.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Qwen2AudioError>;
