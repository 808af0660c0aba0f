//! HF `tokenizer.json` via the `tokenizers` crate, plus what `tokenizer_config.json` says about the
//! chat template (default system prompt) and end-of-sequence tokens.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::error::{InferenceError, Result};

/// Qwen2's ChatML default when the template names none.
pub const QWEN2_DEFAULT_SYSTEM: &str = "You are a helpful assistant.";
/// Token strings that end a Qwen turn or document.
const QWEN_EOS_TOKENS: [&str; 2] = ["<|im_end|>", "<|endoftext|>"];

/// One chat turn. `role` is `system`, `user` or `assistant`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

/// One piece of a prompt template: a control token only the template may emit, or text. Text is
/// encoded with special-token strings split into ordinary tokens, so `<|im_end|>` typed by a user
/// stays text and cannot close its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptPiece<'a> {
    Control(&'a str),
    Text(&'a str),
}

/// Tokenizer plus the chat conventions read next to it.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    /// The same tokenizer with special-token matching off: for user-controlled text.
    plain: Tokenizer,
    eos_ids: Vec<u32>,
    pad_id: u32,
    default_system: String,
}

#[derive(Debug, Default, Deserialize)]
struct TokenizerConfig {
    #[serde(default)]
    chat_template: Option<serde_json::Value>,
    #[serde(default)]
    eos_token: Option<serde_json::Value>,
}

impl TextTokenizer {
    /// Loads `tokenizer.json`; reads `tokenizer_config.json` from the same folder when present.
    pub fn from_file(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(InferenceError::Tokenizer(format!(
                "{} not found",
                path.display()
            )));
        }
        let inner = Tokenizer::from_file(path)
            .map_err(|e| InferenceError::Tokenizer(format!("{}: {e}", path.display())))?;
        let config = read_tokenizer_config(path)?;
        Ok(Self::with_config(inner, &config))
    }

    fn with_config(inner: Tokenizer, config: &TokenizerConfig) -> Self {
        let config_eos = config.eos_token.as_ref().and_then(token_content);
        let mut eos_ids: Vec<u32> = QWEN_EOS_TOKENS
            .iter()
            .map(|s| s.to_string())
            .chain(config_eos)
            .filter_map(|s| inner.token_to_id(&s))
            .collect();
        eos_ids.sort_unstable();
        eos_ids.dedup();
        let pad_id = inner
            .token_to_id("<|endoftext|>")
            .or(eos_ids.first().copied())
            .unwrap_or(0);
        let template = config
            .chat_template
            .as_ref()
            .map(template_text)
            .unwrap_or_default();
        let default_system =
            default_system_prompt(&template).unwrap_or_else(|| QWEN2_DEFAULT_SYSTEM.to_string());
        let mut plain = inner.clone();
        plain.set_encode_special_tokens(true);
        Self {
            inner,
            plain,
            eos_ids,
            pad_id,
            default_system,
        }
    }

    /// Text -> ids; special-token strings such as `<|im_start|>` become their ids. For trusted
    /// template text only: user text goes through `encode_text`.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        encode_with(&self.inner, text)
    }

    /// Text -> ids with special-token strings split into ordinary tokens (`<|im_end|>` is text).
    pub fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        encode_with(&self.plain, text)
    }

    /// Template pieces -> ids: control tokens by id, the text between two controls encoded as
    /// one plain-text run (so benign prompts get the ids a whole-string encode would give).
    pub fn encode_pieces(&self, pieces: &[PromptPiece]) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        let mut text = String::new();
        for piece in pieces {
            match piece {
                PromptPiece::Text(part) => text.push_str(part),
                PromptPiece::Control(token) => {
                    ids.extend(self.encode_text(&std::mem::take(&mut text))?);
                    ids.push(self.control_id(token)?);
                }
            }
        }
        ids.extend(self.encode_text(&text)?);
        Ok(ids)
    }

    fn control_id(&self, token: &str) -> Result<u32> {
        self.inner
            .token_to_id(token)
            .ok_or_else(|| InferenceError::Tokenizer(format!("the tokenizer has no {token} token")))
    }

    /// Ids -> text, special tokens dropped.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| InferenceError::Tokenizer(e.to_string()))
    }

    /// Ids that end generation (`<|im_end|>`, `<|endoftext|>`, the configured eos).
    pub fn eos_ids(&self) -> &[u32] {
        &self.eos_ids
    }

    /// Id used for padding batches (never attended to).
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Id of a token string (special tokens included), if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// System prompt used when a chat has none.
    pub fn default_system(&self) -> &str {
        &self.default_system
    }

    /// ChatML with the assistant generation prompt, as text (for display; `encode_chat` gives
    /// the ids). Adds the default system turn when missing.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> String {
        self.chat_pieces(messages)
            .iter()
            .map(|piece| match piece {
                PromptPiece::Control(s) | PromptPiece::Text(s) => *s,
            })
            .collect()
    }

    /// ChatML ids: roles and contents are plain text, only the template emits control tokens.
    pub fn encode_chat(&self, messages: &[ChatMessage]) -> Result<Vec<u32>> {
        self.encode_pieces(&self.chat_pieces(messages))
    }

    /// A whole conversation in ChatML (no generation prompt), the ids `encode_chat` would give
    /// its turns, and per id whether training learns it: the content of every assistant turn and
    /// its `<|im_end|>`. A content token that BPE merges with the `\n` after the role is not
    /// learned (byte offsets decide, as HF's assistant masks do).
    pub fn encode_chat_supervised(
        &self,
        messages: &[ChatMessage],
    ) -> Result<(Vec<u32>, Vec<bool>)> {
        let default_system = ChatMessage {
            role: "system".to_string(),
            content: self.default_system.clone(),
        };
        let needs_system = messages.first().is_none_or(|m| m.role != "system");
        let turns = needs_system
            .then_some(&default_system)
            .into_iter()
            .chain(messages);
        let (im_start, im_end) = (self.control_id(IM_START)?, self.control_id(IM_END)?);
        let newline = self.encode_text("\n")?;
        let (mut ids, mut learned) = (Vec::new(), Vec::new());
        for turn in turns {
            let assistant = turn.role == "assistant";
            let run = format!("{}\n{}", turn.role, turn.content);
            let content_start = turn.role.len() + 1;
            let enc = self
                .plain
                .encode(run.as_str(), false)
                .map_err(|e| InferenceError::Tokenizer(e.to_string()))?;
            ids.push(im_start);
            learned.push(false);
            for (&id, &(start, _)) in enc.get_ids().iter().zip(enc.get_offsets()) {
                ids.push(id);
                learned.push(assistant && start >= content_start);
            }
            ids.push(im_end);
            learned.push(assistant);
            ids.extend(&newline);
            learned.extend(newline.iter().map(|_| false));
        }
        Ok((ids, learned))
    }

    fn chat_pieces<'a>(&'a self, messages: &'a [ChatMessage]) -> Vec<PromptPiece<'a>> {
        let mut pieces = Vec::new();
        if messages.first().is_none_or(|m| m.role != "system") {
            push_turn(&mut pieces, "system", &self.default_system);
        }
        for m in messages {
            push_turn(&mut pieces, &m.role, &m.content);
        }
        pieces.extend([
            PromptPiece::Control(IM_START),
            PromptPiece::Text("assistant\n"),
        ]);
        pieces
    }
}

const IM_START: &str = "<|im_start|>";
const IM_END: &str = "<|im_end|>";

fn push_turn<'a>(pieces: &mut Vec<PromptPiece<'a>>, role: &'a str, content: &'a str) {
    pieces.extend([
        PromptPiece::Control(IM_START),
        PromptPiece::Text(role),
        PromptPiece::Text("\n"),
        PromptPiece::Text(content),
        PromptPiece::Control(IM_END),
        PromptPiece::Text("\n"),
    ]);
}

fn encode_with(tokenizer: &Tokenizer, text: &str) -> Result<Vec<u32>> {
    let enc = tokenizer
        .encode(text, false)
        .map_err(|e| InferenceError::Tokenizer(e.to_string()))?;
    Ok(enc.get_ids().to_vec())
}

fn read_tokenizer_config(tokenizer_path: &Path) -> Result<TokenizerConfig> {
    let Some(path) = tokenizer_path
        .parent()
        .map(|d| d.join("tokenizer_config.json"))
    else {
        return Ok(TokenizerConfig::default());
    };
    if !path.is_file() {
        return Ok(TokenizerConfig::default());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| InferenceError::Tokenizer(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| InferenceError::Tokenizer(format!("{}: {e}", path.display())))
}

/// `"<|im_end|>"` or `{"content": "<|im_end|>", ...}`.
fn token_content(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o
            .get("content")
            .and_then(|c| c.as_str())
            .map(str::to_string),
        _ => None,
    }
}

/// The template string, or the `default` entry of a list of named templates.
fn template_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
            .and_then(|t| t.get("template"))
            .and_then(|t| t.as_str())
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    }
}

/// Finds the literal system turn of a ChatML Jinja template:
/// `'<|im_start|>system\nYou are ….<|im_end|>\n'` (skipping the `messages[0]` variant).
pub fn default_system_prompt(template: &str) -> Option<String> {
    const OPEN: &str = "<|im_start|>system\\n";
    template.match_indices(OPEN).find_map(|(at, _)| {
        let rest = &template[at + OPEN.len()..];
        let end = rest.find("<|im_end|>")?;
        let text = &rest[..end];
        let literal = !text.is_empty() && !text.contains(['\'', '"', '{', '}', '+']);
        literal.then(|| text.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const QWEN25_TEMPLATE: &str = "{%- if messages[0]['role'] == 'system' %}\n        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}";

    #[test]
    fn default_system_prompt_is_read_from_the_qwen25_template() {
        assert_eq!(
            default_system_prompt(QWEN25_TEMPLATE).as_deref(),
            Some("You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        );
        assert_eq!(default_system_prompt("{{ messages }}"), None);
    }
}
