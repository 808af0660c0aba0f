//! The audio special tokens a Qwen2-Audio tokenizer must have. Qwen2-Audio folders ship their own
//! `tokenizer.json` with `<|AUDIO|>` (151646), `<|audio_bos|>` (151647) and `<|audio_eos|>`
//! (151648); the Qwen2.5 text tokenizer uses those ids for other tokens (`<|object_ref_start|>`…),
//! so a tokenizer is accepted only if it names all three and `<|AUDIO|>` is the config's
//! `audio_token_index`.

use crate::error::{InferenceError, Result};
use crate::tokenizer::TextTokenizer;

pub const AUDIO_TOKEN: &str = "<|AUDIO|>";
pub const AUDIO_BOS_TOKEN: &str = "<|audio_bos|>";
pub const AUDIO_EOS_TOKEN: &str = "<|audio_eos|>";

/// Ids of the three audio special tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioTokenIds {
    pub audio: u32,
    pub bos: u32,
    pub eos: u32,
}

/// Looks the audio tokens up; `E_TOKENIZER` when one is missing or `<|AUDIO|>` is not
/// `audio_token_index`.
pub fn audio_token_ids(tokenizer: &TextTokenizer, audio_token_index: u32) -> Result<AudioTokenIds> {
    let find = |token: &str| {
        tokenizer.token_id(token).ok_or_else(|| {
            InferenceError::Tokenizer(format!(
                "the tokenizer has no {token} token: it is not a Qwen2-Audio tokenizer \
                 (a Qwen2.5 text tokenizer gives ids 151646-151648 to other tokens); \
                 use the tokenizer.json of the Qwen2-Audio model folder"
            ))
        })
    };
    let ids = AudioTokenIds {
        audio: find(AUDIO_TOKEN)?,
        bos: find(AUDIO_BOS_TOKEN)?,
        eos: find(AUDIO_EOS_TOKEN)?,
    };
    if ids.audio != audio_token_index {
        return Err(InferenceError::Tokenizer(format!(
            "the tokenizer's {AUDIO_TOKEN} is id {} but config.json says audio_token_index {}",
            ids.audio, audio_token_index
        )));
    }
    Ok(ids)
}
