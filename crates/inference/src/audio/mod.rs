//! Audio front end for Qwen2-Audio: decode any common container to 16 kHz mono, then compute
//! Whisper-style log-mel features.

pub mod decode;
pub mod logmel;

pub use decode::{
    decode_audio_bytes, decode_audio_file, decode_audio_file_prefix, mix_to_mono, resample,
    DecodedPrefix, TARGET_SAMPLE_RATE,
};
pub use logmel::{LogMelExtractor, LogMelFeatures};

/// Errors of the audio front end. Every variant carries the stable code `E_BAD_AUDIO`.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The bytes could not be decoded, or decoded to nothing usable.
    #[error("{0}")]
    BadAudio(String),
}

impl AudioError {
    /// Stable error code, shared with the TypeScript side.
    pub fn code(&self) -> &'static str {
        match self {
            AudioError::BadAudio(_) => "E_BAD_AUDIO",
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> Self {
        AudioError::BadAudio(message.into())
    }
}

pub type Result<T> = std::result::Result<T, AudioError>;
