//! Lossless re-encoding of GGUF weights into block types that candle has SIMD CPU kernels for.
//!
//! llama.cpp's Q4_K_M/Q5_K_M files store every matrix whose row length is not a multiple of 256
//! (all of Qwen2.5-0.5B's hidden-size-896 projections) as Q5_0, and candle 0.11 only has a scalar
//! Q5_0 dot product: it took 83 % of a CPU prefill. Q5_0 values are `d * (q - 16)` with `q` in
//! 0..32, which Q8_0 (`d * q`, `q` an i8) holds exactly with the same `d`; the Q8_0 x Q8_0 dot
//! product is vectorized (AVX2), and its integer sums are the same, so outputs do not change.
//!
//! candle 0.11 also has tiled x86 kernels (int8 dot products over 16 weight rows and several
//! activation rows at once) for rows that are a multiple of 256. Q8_0 rows of 896 miss them, so
//! on VNNI machines they get zero blocks appended up to the next multiple of 256, and the layer
//! pads its activations with as many zeros. Both are opt-in ([`CPU_INT8_ENV`]).

use std::sync::Arc;

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType, QTensor};

use crate::error::{InferenceError, Result};

const BLOCK: usize = 32;
const Q5_0_BYTES: usize = 22; // f16 d, u32 high bits, 16 bytes of low nibbles
const Q8_0_BYTES: usize = 34; // f16 d, 32 i8
/// candle's tiled x86 kernels: 16 weight rows per tile over 256-value superblocks.
const TILE_ROWS: usize = 16;
const SUPERBLOCK: usize = 256;
/// `OPT_NATIVE_CPU_INT8=1` runs CPU prefills and scoring through candle's tiled int8 kernels (see
/// [`int8_prefill`]). Off by default: the activations' 8-bit rounding moves greedy agreement with
/// llama.cpp from 9 to 7 of 10 prompts on the default model, and batch and single scores apart by
/// up to 0.023, against the "numerics unchanged"; docs/benchmarks.md has the speed.
pub const CPU_INT8_ENV: &str = "OPT_NATIVE_CPU_INT8";

/// Whether [`CPU_INT8_ENV`] is set to `1` (read on each call, so one process can compare both).
pub fn int8_prefill() -> bool {
    std::env::var(CPU_INT8_ENV).as_deref() == Ok("1")
}

/// Whether candle 0.11's tiled x86 kernels run this weight for any number of activation rows. Its
/// `repack_x86::select` is private, so the rule is restated: 16-row tiles over 256-value
/// superblocks, Q4_K and Q6_K on AVX2 or VNNI, Q8_0 only with VNNI (AVX2's maddubs overflows on
/// its offset bytes). candle runs one row of Q6_K through its generic kernel instead, which
/// differs from the tiled one by about 1e-5.
pub(crate) fn tiled_kernel_covers(weight: &QTensor) -> bool {
    let Ok((n, k)) = weight.shape().dims2() else {
        return false;
    };
    let Some(level) = tile_level() else {
        return false;
    };
    if k == 0 || !n.is_multiple_of(TILE_ROWS) || !k.is_multiple_of(SUPERBLOCK) {
        return false;
    }
    match weight.dtype() {
        GgmlDType::Q4K | GgmlDType::Q6K => true,
        GgmlDType::Q8_0 => level == TileLevel::Vnni,
        _ => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TileLevel {
    Vnni,
    Avx2,
}

/// candle's choice of tiled kernel tier, with its override variables.
pub(crate) fn tile_level() -> Option<TileLevel> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static LEVEL: OnceLock<Option<TileLevel>> = OnceLock::new();
        *LEVEL.get_or_init(|| {
            let forced = |name: &str| std::env::var(name).as_deref() == Ok("1");
            let force_avx2 = forced("MISTRALRS_FORCE_AVX2");
            let avx512_vnni =
                is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vnni");
            let avx_vnni = (forced("MISTRALRS_FORCE_AVXVNNI")
                || is_x86_feature_detected!("avxvnni"))
                && is_x86_feature_detected!("avx2");
            if !force_avx2 && (avx512_vnni || avx_vnni) {
                Some(TileLevel::Vnni)
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                Some(TileLevel::Avx2)
            } else {
                None
            }
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// A CPU Q8_0 `(n, k)` weight whose rows miss the tiled kernel only by their length becomes
/// `(n, k + pad)` with zero blocks at the end of each row; returns it and `pad`. The sums over
/// the padded columns are zero, so outputs are those of the unpadded weight. Only where the
/// padding adds at most a quarter (896 -> 1024 does; 64 -> 256 would quadruple the work), and only
/// with [`int8_prefill`]. Anything else passes through with a pad of 0.
pub fn padded_for_tiles(tensor: Arc<QTensor>) -> Result<(Arc<QTensor>, usize)> {
    let Ok((n, k)) = tensor.shape().dims2() else {
        return Ok((tensor, 0));
    };
    let wanted = tensor.device().is_cpu()
        && tensor.dtype() == GgmlDType::Q8_0
        && tile_level() == Some(TileLevel::Vnni)
        && int8_prefill()
        && n.is_multiple_of(TILE_ROWS)
        && k.is_multiple_of(BLOCK)
        && !k.is_multiple_of(SUPERBLOCK)
        && k.next_multiple_of(SUPERBLOCK) * 4 <= k * 5;
    if !wanted {
        return Ok((tensor, 0));
    }
    let padded_k = k.next_multiple_of(SUPERBLOCK);
    let raw = pad_q8_0_rows(&tensor.data()?, k / BLOCK, padded_k / BLOCK)?;
    let padded = qtensor_from_ggml(GgmlDType::Q8_0, &raw, vec![n, padded_k], &tensor.device())?;
    Ok((Arc::new(padded), padded_k - k))
}

/// Raw Q8_0 rows of `blocks` blocks -> rows of `padded_blocks`, the new blocks all zero.
fn pad_q8_0_rows(raw: &[u8], blocks: usize, padded_blocks: usize) -> Result<Vec<u8>> {
    let row_bytes = blocks * Q8_0_BYTES;
    if row_bytes == 0 || !raw.len().is_multiple_of(row_bytes) {
        return Err(InferenceError::format(format!(
            "Q8_0 data of {} bytes is not a whole number of {blocks}-block rows",
            raw.len()
        )));
    }
    let zeros = vec![0u8; (padded_blocks - blocks) * Q8_0_BYTES];
    let mut out = Vec::with_capacity(raw.len() / row_bytes * padded_blocks * Q8_0_BYTES);
    for row in raw.chunks_exact(row_bytes) {
        out.extend_from_slice(row);
        out.extend_from_slice(&zeros);
    }
    Ok(out)
}

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

    /// Padded rows hold the same values followed by zeros, and the padded matmul over zero-padded
    /// activations gives the unpadded weight's outputs.
    #[test]
    fn padded_q8_0_rows_keep_values_and_outputs() {
        let w = sample(16, 96);
        let q8 = Arc::new(QTensor::quantize(&w, GgmlDType::Q8_0).unwrap());
        let raw = pad_q8_0_rows(&q8.data().unwrap(), 3, 8).unwrap();
        let padded = qtensor_from_ggml(GgmlDType::Q8_0, &raw, vec![16, 256], &Device::Cpu).unwrap();
        let dense = padded.dequantize(&Device::Cpu).unwrap();
        let exact = q8.dequantize(&Device::Cpu).unwrap();
        assert_eq!(
            dense.narrow(1, 0, 96).unwrap().to_vec2::<f32>().unwrap(),
            exact.to_vec2::<f32>().unwrap()
        );
        let tail: Vec<f32> = dense
            .narrow(1, 96, 160)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(tail.iter().all(|&v| v == 0.0));
        let x = sample(5, 96);
        let x_padded = x.pad_with_zeros(1, 0, 160).unwrap();
        let want = x.matmul(&exact.t().unwrap()).unwrap();
        let got = x_padded.matmul(&dense.t().unwrap()).unwrap();
        let diff: f32 = (want - got)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(diff < 1e-4, "{diff}");
    }

    /// Only Q8_0 on VNNI machines, with rows off the superblock, is padded.
    #[test]
    fn only_q8_0_rows_off_the_superblock_are_padded() {
        std::env::set_var(CPU_INT8_ENV, "1");
        let pad = |dims: (usize, usize), dtype| {
            let q = Arc::new(QTensor::quantize(&sample(dims.0, dims.1), dtype).unwrap());
            padded_for_tiles(q).unwrap().1
        };
        let vnni = tile_level() == Some(TileLevel::Vnni);
        assert_eq!(pad((16, 896), GgmlDType::Q8_0), if vnni { 128 } else { 0 });
        assert_eq!(pad((16, 256), GgmlDType::Q8_0), 0);
        assert_eq!(pad((16, 64), GgmlDType::Q8_0), 0);
        assert_eq!(pad((24, 896), GgmlDType::Q8_0), 0);
        assert_eq!(pad((16, 768), GgmlDType::Q5_0), 0);
    }

    #[test]
    fn truncated_q5_0_data_is_a_format_error() {
        assert!(q5_0_to_q8_0(&[0u8; 23]).is_err());
    }
}
