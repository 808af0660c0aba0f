//! Reads and tokenizes a chat JSONL file; every error names the file and, where it can, the line.

use std::path::Path;

use crate::error::{InferenceError, Result};
use crate::tokenizer::TextTokenizer;
use crate::train::data::{parse_chat_jsonl_numbered, tokenize_chat, TokenizedExample};

/// The examples of `path`, each cut to `max_len` tokens.
pub(crate) fn load_examples(
    path: &Path,
    tokenizer: &TextTokenizer,
    max_len: usize,
) -> Result<Vec<TokenizedExample>> {
    let in_file = |e: InferenceError| match e {
        InferenceError::BadInput(msg) => {
            InferenceError::BadInput(format!("{}: {msg}", path.display()))
        }
        other => other,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| InferenceError::bad_input(format!("dataset {}: {e}", path.display())))?;
    let chats = parse_chat_jsonl_numbered(&text).map_err(in_file)?;
    chats
        .iter()
        .map(|(line, chat)| tokenize_chat(tokenizer, chat, max_len, *line).map_err(in_file))
        .collect()
}
