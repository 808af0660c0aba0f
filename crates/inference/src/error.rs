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

    /// The message on one line, without a backtrace candle captured under `RUST_BACKTRACE`: what
    /// crosses the native boundary.
    pub fn message_line(&self) -> String {
        one_line(&self.to_string())
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
        let msg = candle_message(&err);
        let lower = msg.to_ascii_lowercase();
        if lower.contains("out of memory") || lower.contains("out_of_memory") {
            Self::OutOfMemory(msg)
        } else {
            Self::Runtime(msg)
        }
    }
}

/// A candle error's message without the backtrace it carries when `RUST_BACKTRACE` is set.
pub fn candle_message(err: &candle_core::Error) -> String {
    use candle_core::Error;
    match err {
        Error::WithBacktrace { inner, .. } => candle_message(inner),
        Error::Context { inner, context } => format!("{context}: {}", candle_message(inner)),
        Error::WithPath { inner, path } => {
            format!("{}: {}", path.display(), candle_message(inner))
        }
        other => one_line(&other.to_string()),
    }
}

/// The lines of `message` before any backtrace frame (`   0: symbol`), joined by spaces.
pub fn one_line(message: &str) -> String {
    message
        .lines()
        .take_while(|line| !is_backtrace_frame(line))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_backtrace_frame(line: &str) -> bool {
    let trimmed = line.trim_start();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    line.starts_with(' ') && digits > 0 && trimmed[digits..].starts_with(": ")
}

/// Crate-wide result alias.
pub type Result<T> = std::result::Result<T, InferenceError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_captured_backtrace_stays_out_of_the_message() {
        let err = candle_core::Error::WithBacktrace {
            inner: Box::new(candle_core::Error::Msg("shape mismatch".into())),
            backtrace: Box::new(std::backtrace::Backtrace::force_capture()),
        };
        assert!(
            err.to_string().lines().count() > 2,
            "candle prints the frames"
        );
        let ours = InferenceError::from(err);
        assert_eq!(ours.message_line(), "inference failed: shape mismatch");
        let wrapped = InferenceError::format(format!(
            "GGUF header: {}",
            candle_core::Error::WithBacktrace {
                inner: Box::new(candle_core::Error::Msg("bad dtype 99".into())),
                backtrace: Box::new(std::backtrace::Backtrace::force_capture()),
            }
        ));
        assert_eq!(
            wrapped.message_line(),
            "bad model file: GGUF header: bad dtype 99"
        );
    }
}
