//! Lossless re-encoding of GGUF weights into block types that candle has SIMD CPU kernels for.
//!
//! llama.cpp's Q4_K_M/Q5_K_M files store every matrix whose row length is not a multiple of 256
//! (all of Qwen2.5-0.5B's hidden-size-896 projections) as Q5_0, and candle 0.11 only has a scalar
//! Q5_0 dot product: it took 83 % of a CPU prefill. Q5_0 values are `d * (q - 16)` with `q` in
//! 0..32, which Q8_0 (`d * q`, `q` an i8) holds exactly with the same `d`; the Q8_0 x Q8_0 dot
//! product is vectorized (AVX2), and its integer sums are the same, so outputs do not change.

use std::sync::Arc;

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType, QTensor};

use crate::error::{InferenceError, Result};

const BLOCK: usize = 32;
const Q5_0_BYTES: usize = 22; // f16 d, u32 high bits, 16 bytes of low nibbles
const Q8_0_BYTES: usize = 34; // f16 d, 32 i8

/// Re-encodes CPU tensors whose type only has scalar kernels; others pass through unchanged.
pub fn for_cpu_kernels(tensor: Arc<QTensor>) -> Result<Arc<QTensor>> {
    if !tensor.device().is_cpu() || tensor.dtype() != GgmlDType::Q5_0 {
        return Ok(tensor);
    }
    let q8 = q5_0_to_q8_0(&tensor.data()?)?;
    Ok(Arc::new(qtensor_from_ggml(
        GgmlDType::Q8_0,
        &q8,
        tensor.shape().dims().to_vec(),
        &tensor.device(),
    )?))
}

/// Raw Q5_0 blocks -> raw Q8_0 blocks with the same scales and integer values.
fn q5_0_to_q8_0(raw: &[u8]) -> Result<Vec<u8>> {
    if !raw.len().is_multiple_of(Q5_0_BYTES) {
        return Err(InferenceError::format(format!(
            "Q5_0 data of {} bytes is not a whole number of blocks",
            raw.len()
        )));
    }
    let mut out = Vec::with_capacity(raw.len() / Q5_0_BYTES * Q8_0_BYTES);
    for block in raw.chunks_exact(Q5_0_BYTES) {
        let (d, rest) = block.split_at(2);
        let (qh, qs) = rest.split_at(4);
        let high = u32::from_le_bytes([qh[0], qh[1], qh[2], qh[3]]);
        out.extend_from_slice(d);
        // Element j < 16 is the low nibble of qs[j], element j + 16 its high nibble; bit j of
        // `high` is the fifth bit of element j.
        let value = |j: usize| {
            let nibble = if j < BLOCK / 2 {
                qs[j] & 0x0f
            } else {
                qs[j - BLOCK / 2] >> 4
            };
            let fifth = ((high >> j) & 1) as u8;
            ((nibble | (fifth << 4)) as i8 - 16) as u8
        };
        out.extend((0..BLOCK).map(value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Module, Tensor};

    /// A (rows, cols) f32 matrix with varied magnitudes and signs.
    fn sample(rows: usize, cols: usize) -> Tensor {
        let data: Vec<f32> = (0..rows * cols)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.013 * (1.0 + (i % 7) as f32))
            .collect();
        Tensor::from_vec(data, (rows, cols), &Device::Cpu).unwrap()
    }

    fn values(q: &QTensor) -> Vec<f32> {
        let dense = q.dequantize(&Device::Cpu).unwrap();
        dense.flatten_all().unwrap().to_vec1().unwrap()
    }

    #[test]
    fn q5_0_becomes_q8_0_with_identical_values() {
        let w = sample(8, 64);
        let q5 = Arc::new(QTensor::quantize(&w, GgmlDType::Q5_0).unwrap());
        let before = values(&q5);
        let q8 = for_cpu_kernels(q5).unwrap();
        assert_eq!(q8.dtype(), GgmlDType::Q8_0);
        assert_eq!(q8.shape().dims(), &[8, 64]);
        let after = values(&q8);
        assert_eq!(before, after);
        assert!(before.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn matmul_output_is_unchanged() {
        let w = sample(16, 96);
        let x = sample(3, 96);
        let q5 = Arc::new(QTensor::quantize(&w, GgmlDType::Q5_0).unwrap());
        let slow = candle_core::quantized::QMatMul::from_arc(q5.clone()).unwrap();
        let fast = candle_core::quantized::QMatMul::from_arc(for_cpu_kernels(q5).unwrap()).unwrap();
        let a: Vec<Vec<f32>> = slow.forward(&x).unwrap().to_vec2().unwrap();
        let b: Vec<Vec<f32>> = fast.forward(&x).unwrap().to_vec2().unwrap();
        for (ra, rb) in a.iter().zip(&b) {
            for (va, vb) in ra.iter().zip(rb) {
                assert!((va - vb).abs() <= 1e-5 * va.abs().max(1.0), "{va} vs {vb}");
            }
        }
    }

    #[test]
    fn other_types_pass_through() {
        let q4 = Arc::new(QTensor::quantize(&sample(4, 256), GgmlDType::Q4K).unwrap());
        assert_eq!(for_cpu_kernels(q4).unwrap().dtype(), GgmlDType::Q4K);
    }

    #[test]
    fn truncated_q5_0_data_is_a_format_error() {
        assert!(q5_0_to_q8_0(&[0u8; 23]).is_err());
    }
}
