//! A small var-builder over two weight sources: HF safetensors (dense tensors) and GGUF (quantized
//! `QTensor`s). Model code names weights the HF way (`model.layers.0.self_attn.q_proj`); the GGUF
//! source maps those names to llama.cpp's (`blk.0.attn_q`).
//!
//! - `source`: the weight sources and the [`Weights`] builder over them.
//! - `layers`: the layer types it builds ([`Linear`], [`Embedding`]).
//! - `gemm`: the CPU prefill path of quantized layers (dequantize, then a dense GEMM), and the kernel
//!   choice for one decode row.
//! - `q6k_row`: one activation row against a Q6_K weight with AVX-512 VNNI.

mod gemm;
mod layers;
mod q6k_row;
mod source;

pub(crate) use gemm::RowIndependentGemm;
pub use layers::{tensor_bytes, Embedding, Linear};
pub use source::{gguf_name, GgufSource, WeightSource, Weights, LOAD_IN_4BIT_TYPE};
