//! Prompt-evaluation metrics.
