//! Chat examples for completion-only training: JSONL lines `{"messages": [{role, content}, …]}`,
//! tokenized with the model's ChatML template, and right-padded batches of them.

use candle_core::{Device, Tensor};
use serde::Deserialize;

use crate::error::{InferenceError, Result};
use crate::tokenizer::{ChatMessage, TextTokenizer};

#[derive(Deserialize)]
struct ChatLine {
    messages: Vec<ChatMessage>,
}

/// One example: its ids and, per id, whether the loss learns it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizedExample {
    pub ids: Vec<u32>,
    pub learned: Vec<bool>,
}

impl TokenizedExample {
    /// Tokens that carry loss (each is predicted from the position before it).
    pub fn loss_tokens(&self) -> usize {
        self.learned.iter().skip(1).filter(|&&l| l).count()
    }
}

/// Parses JSONL text; blank lines are skipped. Errors name the 1-based line.
pub fn parse_chat_jsonl(text: &str) -> Result<Vec<Vec<ChatMessage>>> {
    Ok(parse_chat_jsonl_numbered(text)?
        .into_iter()
        .map(|(_, chat)| chat)
        .collect())
}

/// Like `parse_chat_jsonl`, keeping each chat's 1-based line (for later errors that name it).
pub fn parse_chat_jsonl_numbered(text: &str) -> Result<Vec<(usize, Vec<ChatMessage>)>> {
    let mut chats = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: ChatLine = serde_json::from_str(line)
            .map_err(|e| InferenceError::bad_input(format!("dataset line {}: {e}", index + 1)))?;
        check_chat(&parsed.messages, index + 1)?;
        chats.push((index + 1, parsed.messages));
    }
    if chats.is_empty() {
        return Err(InferenceError::bad_input("the dataset holds no examples"));
    }
    Ok(chats)
}

fn check_chat(messages: &[ChatMessage], line: usize) -> Result<()> {
    if let Some(m) = messages
        .iter()
        .find(|m| !matches!(m.role.as_str(), "system" | "user" | "assistant"))
    {
        return Err(InferenceError::bad_input(format!(
            "dataset line {line}: role '{}' is not system, user or assistant",
            m.role
        )));
    }
    if !messages.iter().any(|m| m.role == "assistant") {
        return Err(InferenceError::bad_input(format!(
            "dataset line {line}: no assistant turn to learn"
        )));
    }
    Ok(())
}

/// Tokenizes one chat, cut to `max_len` tokens; refuses one left without a learned token.
pub fn tokenize_chat(
    tokenizer: &TextTokenizer,
    messages: &[ChatMessage],
    max_len: usize,
    line: usize,
) -> Result<TokenizedExample> {
    check_chat(messages, line)?;
    let (mut ids, mut learned) = tokenizer.encode_chat_supervised(messages)?;
    ids.truncate(max_len);
    learned.truncate(max_len);
    let example = TokenizedExample { ids, learned };
    if example.loss_tokens() == 0 {
        return Err(InferenceError::bad_input(format!(
            "dataset line {line}: no assistant token within the first {max_len} tokens"
        )));
    }
    Ok(example)
}

/// Right-padded examples and where their loss is read.
#[derive(Debug, Clone)]
pub struct TokenBatch {
    pub ids: Tensor, // (b, seq) u32
    pub lengths: Vec<usize>,
    /// Flat `(row * seq + position)` indices of the positions that predict a learned token. (n)
    pub loss_rows: Tensor,
    /// The learned token each of those positions predicts. (n) u32
    pub targets: Tensor,
    pub loss_tokens: usize,
}

impl TokenBatch {
    /// Pads with `pad_id` on the right (positions stay `0..len`; the key mask hides the pad).
    pub fn new(examples: &[&TokenizedExample], pad_id: u32, device: &Device) -> Result<Self> {
        let seq = examples.iter().map(|e| e.ids.len()).max().unwrap_or(0);
        if seq == 0 {
            return Err(InferenceError::bad_input("an empty batch"));
        }
        let mut ids = Vec::with_capacity(examples.len() * seq);
        let (mut rows, mut targets) = (Vec::new(), Vec::new());
        for (row, example) in examples.iter().enumerate() {
            ids.extend(&example.ids);
            ids.extend(std::iter::repeat_n(pad_id, seq - example.ids.len()));
            for t in 1..example.ids.len() {
                if example.learned[t] {
                    rows.push((row * seq + t - 1) as u32);
                    targets.push(example.ids[t]);
                }
            }
        }
        let loss_tokens = rows.len();
        Ok(Self {
            ids: Tensor::from_vec(ids, (examples.len(), seq), device)?,
            lengths: examples.iter().map(|e| e.ids.len()).collect(),
            loss_rows: Tensor::from_vec(rows, loss_tokens, device)?,
            targets: Tensor::from_vec(targets, loss_tokens, device)?,
            loss_tokens,
        })
    }
}
