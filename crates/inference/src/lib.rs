//! Native Qwen inference (filled by the inference issue).
