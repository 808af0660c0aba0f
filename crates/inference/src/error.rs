//! One error type with stable codes; the Node binding prefixes messages with `[E_CODE] `.

use std::path::PathBuf;

/// Every failure this crate reports. `code()` is stable and crosses the native boundary.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    /// The weights path (file or folder) does not exist or holds no weights.
    #[error("model not found: {path}: {reason}")]
    ModelNotFound { path: PathBuf, reason: String },
    /// Corrupt, truncated or unsupported weights/config (bad magic, bad header, unsupported architecture).
    #[error("bad model file: {0}")]
    ModelFormat(String),
    /// The tokenizer could not be found, loaded or applied.
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    /// The device ran out of memory.
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    /// The caller's cancel flag was set.
    #[error("generation aborted")]
    Aborted,
    /// A request the model cannot serve (empty prompt, too long, bad sampling values).
    #[error("bad input: {0}")]
    BadInput(String),
    /// Undecodable, empty or too-short audio (file or samples).
    #[error("bad audio: {0}")]
    BadAudio(String),
    /// A tensor operation failed at run time (should not happen for valid models and inputs).
    #[error("inference failed: {0}")]
    Runtime(String),
}

impl InferenceError {
    /// Stable machine-readable code, e.g. `E_MODEL_FORMAT`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ModelNotFound { .. } => "E_MODEL_NOT_FOUND",
            Self::ModelFormat(_) => "E_MODEL_FORMAT",
            Self::Tokenizer(_) => "E_TOKENIZER",
            Self::OutOfMemory(_) => "E_OOM",
            Self::Aborted => "E_ABORTED",
            Self::BadInput(_) => "E_BAD_INPUT",
            Self::BadAudio(_) => "E_BAD_AUDIO",
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

/// The audio front end's errors keep their code `E_BAD_AUDIO`.
impl From<crate::audio::AudioError> for InferenceError {
    fn from(err: crate::audio::AudioError) -> Self {
        match err {
            crate::audio::AudioError::BadAudio(msg) => Self::BadAudio(msg),
        }
    }
}

/// Run-time tensor errors: out-of-memory is recognised from the backend's message.
impl From<candle_core::Error> for InferenceError {
    fn from(err: candle_core::Error) -> Self {
        let msg = err.to_string();
        let lower = msg.to_ascii_lowercase();
        if lower.contains("out of memory") || lower.contains("out_of_memory") {
            Self::OutOfMemory(msg)
        } else {
            Self::Runtime(msg)
        }
    }
}

/// Crate-wide result alias.
pub type Result<T> = std::result::Result<T, InferenceError>;
