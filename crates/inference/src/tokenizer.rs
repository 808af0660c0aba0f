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

/// Tokenizer plus the chat conventions read next to it.
#[derive(Debug, Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
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
        Self {
            inner,
            eos_ids,
            pad_id,
            default_system,
        }
    }

    /// Text -> ids; special-token strings such as `<|im_start|>` become their ids.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| InferenceError::Tokenizer(e.to_string()))?;
        Ok(enc.get_ids().to_vec())
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

    /// ChatML with the assistant generation prompt; adds the default system turn when missing.
    pub fn render_chat(&self, messages: &[ChatMessage]) -> String {
        let mut out = String::new();
        if messages.first().is_none_or(|m| m.role != "system") {
            push_turn(&mut out, "system", &self.default_system);
        }
        for m in messages {
            push_turn(&mut out, &m.role, &m.content);
        }
        out.push_str("<|im_start|>assistant\n");
        out
    }
}

fn push_turn(out: &mut String, role: &str, content: &str) {
    out.push_str("<|im_start|>");
    out.push_str(role);
    out.push('\n');
    out.push_str(content);
    out.push_str("<|im_end|>\n");
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
