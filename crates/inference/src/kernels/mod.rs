//! CPU matmul kernels of our own for GGUF block types whose candle kernels are slow or missing.
//!
//! - `q5_0`: Q5_0 weights (llama.cpp's choice for rows that are not a multiple of 256) times 8-bit
//!   quantized activations, AVX2/FMA with a portable fallback, inside candle's tiled matmul driver.

pub mod q5_0;
