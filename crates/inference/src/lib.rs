//! Native Qwen inference (filled by the inference issue).

pub mod audio;
