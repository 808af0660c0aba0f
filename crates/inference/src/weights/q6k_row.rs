//! One activation row against a CPU Q6_K weight with AVX-512 VNNI integer dot products. candle's
//! Q6_K kernels (generic and tiled) both streamed a 151936 x 1536 head at ~16 GB/s for one row on
//! this VM, half the rate of its Q4_K generic kernel: they are bound by the AVX2 unpacking of the
//! 6-bit values. Here 64 values unpack at once and `vpdpbusd` multiplies the unsigned 6-bit values
//! by the signed 8-bit activations directly; the -32 offset is taken out once per block through the
//! activation block sums. The activations are rounded to candle's Q8_K blocks, as its kernels do.

use candle_core::quantized::k_quants::{BlockQ8K, GgmlType, QK_K};

/// A Q6_K block as candle (and ggml) lay it out: low 4 bits, high 2 bits, 16 sub-block scales,
/// the f16 block scale. candle's `BlockQ6K` is `repr(C)` with private fields.
#[repr(C)]
pub(super) struct Q6kBlock {
    ql: [u8; QK_K / 2],
    qh: [u8; QK_K / 4],
    scales: [i8; QK_K / 16],
    d: u16,
}

/// candle's `BlockQ8K` (`repr(C)`): the activation scale, 256 values, and the sums of each 16.
#[repr(C)]
struct Q8kBlock {
    d: f32,
    qs: [i8; QK_K],
    bsums: [i16; QK_K / 16],
}

const _: () = assert!(std::mem::size_of::<Q6kBlock>() == 210);
const _: () = assert!(std::mem::size_of::<Q8kBlock>() == std::mem::size_of::<BlockQ8K>());
const _: () = assert!(std::mem::align_of::<Q8kBlock>() == std::mem::align_of::<BlockQ8K>());

/// Set to `0` to keep candle's Q6_K kernels (read on each call, so one process can compare both).
pub const Q6K_KERNEL_ENV: &str = "OPT_NATIVE_Q6K_KERNEL";

/// Whether this CPU runs the kernel (checked once; otherwise candle's kernels stay in use), and
/// [`Q6K_KERNEL_ENV`] does not turn it off.
pub(super) fn available() -> bool {
    std::env::var(Q6K_KERNEL_ENV).as_deref() != Ok("0") && cpu_has_instructions()
}

fn cpu_has_instructions() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vnni")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The raw bytes of an `(n, k)` Q6_K weight as blocks, when they are whole and aligned blocks.
pub(super) fn q6k_blocks(raw: &[u8], n: usize, k: usize) -> Option<&[Q6kBlock]> {
    let count = (n * k) / QK_K;
    let aligned = (raw.as_ptr() as usize).is_multiple_of(std::mem::align_of::<Q6kBlock>());
    if !aligned || !k.is_multiple_of(QK_K) || raw.len() != count * std::mem::size_of::<Q6kBlock>() {
        return None;
    }
    // SAFETY: `raw` holds exactly `count` blocks at the block's alignment, and a block is plain
    // bytes (and f16 bits) for which every bit pattern is valid.
    Some(unsafe { std::slice::from_raw_parts(raw.as_ptr().cast::<Q6kBlock>(), count) })
}

/// `weight (n, k) · lhs (k)` -> `(n)`, the rows split over candle's CPU thread pool. `None` when
/// the CPU lacks the instructions or the shapes do not match.
pub(super) fn q6k_matvec(weight: &[Q6kBlock], n: usize, k: usize, lhs: &[f32]) -> Option<Vec<f32>> {
    if !available() || lhs.len() != k || !k.is_multiple_of(QK_K) || weight.len() * QK_K != n * k {
        return None;
    }
    let per_row = k / QK_K;
    let mut quantized = vec![BlockQ8K::zeros(); per_row];
    BlockQ8K::from_float(lhs, &mut quantized);
    // SAFETY: `Q8kBlock` mirrors `BlockQ8K`'s `repr(C)` layout (size and alignment asserted).
    let ys = unsafe { std::slice::from_raw_parts(quantized.as_ptr().cast::<Q8kBlock>(), per_row) };
    let mut dst = vec![0f32; n];
    let dst_addr = dst.as_mut_ptr() as usize;
    candle_core::utils::barrier_pool().execute_chunked(n, |rows| {
        for row in rows {
            let blocks = &weight[row * per_row..(row + 1) * per_row];
            // SAFETY: `available()` checked the instructions; each row of `dst` is written by
            // exactly one work item, inside its bounds.
            unsafe { *(dst_addr as *mut f32).add(row) = dot_row(blocks, ys) };
        }
    });
    Some(dst)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn dot_row(xs: &[Q6kBlock], ys: &[Q8kBlock]) -> f32 {
    use std::arch::x86_64::*;
    let low4 = _mm512_set1_epi8(0x0f);
    let low2 = _mm512_set1_epi8(3);
    // Within 128 values, the low 256 bits of the 64 `ql` bytes hold values 0..32 (low nibbles)
    // and 64..96 (high nibbles), the high 256 bits 32..64 and 96..128; each `qh` byte holds the top
    // bit pairs of values l, l+32, l+64, l+96 at shifts 0, 2, 4, 6.
    let shift_first = _mm512_inserti64x4(_mm512_set1_epi16(0), _mm256_set1_epi16(2), 1);
    let shift_second = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(6), 1);
    // Each i32 lane of a dot product sums 4 values; 4 lanes are one 16-value sub-block.
    // SAFETY: the table holds 4 x 16 i32.
    let lanes: [__m512i; 4] = unsafe {
        [
            _mm512_loadu_si512(SCALE_LANES[0].as_ptr().cast()),
            _mm512_loadu_si512(SCALE_LANES[1].as_ptr().cast()),
            _mm512_loadu_si512(SCALE_LANES[2].as_ptr().cast()),
            _mm512_loadu_si512(SCALE_LANES[3].as_ptr().cast()),
        ]
    };
    let mut acc = _mm512_setzero_ps();
    for (x, y) in xs.iter().zip(ys) {
        // SAFETY: every load below reads inside the two blocks (unaligned loads).
        unsafe {
            let scales8 = _mm_loadu_si128(x.scales.as_ptr().cast());
            let scales32 = _mm512_cvtepi8_epi32(scales8);
            let mut sum = _mm512_setzero_si512();
            for half in 0..2 {
                let ql = _mm512_loadu_si512(x.ql.as_ptr().add(64 * half).cast());
                let qh =
                    _mm512_broadcast_i64x4(_mm256_loadu_si256(x.qh.as_ptr().add(32 * half).cast()));
                let first =
                    _mm512_or_si512(_mm512_and_si512(ql, low4), top_bits(qh, shift_first, low2));
                let second = _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                    top_bits(qh, shift_second, low2),
                );
                let y0 = _mm512_loadu_si512(y.qs.as_ptr().add(128 * half).cast());
                let y1 = _mm512_loadu_si512(y.qs.as_ptr().add(128 * half + 64).cast());
                let zero = _mm512_setzero_si512();
                let p0 = _mm512_dpbusd_epi32(zero, first, y0);
                let p1 = _mm512_dpbusd_epi32(zero, second, y1);
                let s0 = _mm512_permutexvar_epi32(lanes[2 * half], scales32);
                let s1 = _mm512_permutexvar_epi32(lanes[2 * half + 1], scales32);
                sum = _mm512_add_epi32(
                    sum,
                    _mm512_add_epi32(_mm512_mullo_epi32(p0, s0), _mm512_mullo_epi32(p1, s1)),
                );
            }
            // The values are stored +32: subtract 32 * sum_b scale_b * (sum of activations in b).
            let bsums = _mm256_loadu_si256(y.bsums.as_ptr().cast());
            let offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scales8), bsums);
            sum = _mm512_sub_epi32(sum, _mm512_slli_epi32(_mm512_zextsi256_si512(offset), 5));
            let d = y.d * half::f16::from_bits(x.d).to_f32();
            acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sum), acc);
        }
    }
    _mm512_reduce_add_ps(acc)
}

/// Sub-block index of each i32 lane, for the four 64-value groups of a block.
const SCALE_LANES: [[i32; 16]; 4] = {
    let mut table = [[0; 16]; 4];
    let mut group = 0;
    while group < 4 {
        let mut lane = 0;
        while lane < 16 {
            table[group][lane] = (group * 4 + lane / 4) as i32;
            lane += 1;
        }
        group += 1;
    }
    table
};

/// The top two bits of 64 values, at bit 4: `((qh >> shift) & 3) << 4` per byte.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn top_bits(
    qh: std::arch::x86_64::__m512i,
    shifts: std::arch::x86_64::__m512i,
    low2: std::arch::x86_64::__m512i,
) -> std::arch::x86_64::__m512i {
    use std::arch::x86_64::*;
    _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(qh, shifts), low2), 4)
}

#[cfg(not(target_arch = "x86_64"))]
fn dot_row(_xs: &[Q6kBlock], _ys: &[Q8kBlock]) -> f32 {
    unreachable!("q6k_matvec checks available() first")
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::k_quants::{self, BlockQ6K};
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

    /// Values spread over both signs and several magnitudes, so every bit of the 6-bit codes and
    /// negative sub-block scales occur.
    fn noise(len: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let unit = (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
                unit * scale * (1.0 + (i % 7) as f32)
            })
            .collect()
    }

    fn candle_matvec(raw: &[u8], n: usize, k: usize, lhs: &[f32]) -> Vec<f32> {
        let count = n * k / QK_K;
        // SAFETY: `raw` is the data of an (n, k) Q6_K tensor: `count` blocks of candle's type.
        let blocks = unsafe { std::slice::from_raw_parts(raw.as_ptr().cast::<BlockQ6K>(), count) };
        let mut dst = vec![0f32; n];
        k_quants::matmul((1, k, n), lhs, blocks, &mut dst).unwrap();
        dst
    }

    /// Against candle's Q6_K kernel on the same 8-bit activation blocks: the same integer sums,
    /// so only the float summation order differs. Where the CPU lacks AVX-512 VNNI the kernel
    /// declines and the layer keeps candle's.
    #[test]
    fn matches_candles_q6k_kernel() {
        let (n, k) = (37, 768);
        let weights = Tensor::from_vec(noise(n * k, 7, 0.02), (n, k), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&weights, GgmlDType::Q6K).unwrap();
        let raw = q.data().unwrap();
        let lhs = noise(k, 11, 1.5);
        let want = candle_matvec(&raw, n, k, &lhs);
        let blocks = q6k_blocks(&raw, n, k).expect("whole aligned blocks");
        let Some(got) = q6k_matvec(blocks, n, k, &lhs) else {
            assert!(!available());
            return;
        };
        for (row, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                "row {row}: {g} vs {w}"
            );
        }
        assert!(q6k_matvec(blocks, n, k, &lhs[..k - 1]).is_none());
        assert!(q6k_blocks(&raw[..raw.len() - 1], n, k).is_none());
    }

    /// Close to the exact product of the dequantized weight, as candle's kernel is.
    #[test]
    fn is_as_close_to_the_exact_product_as_candles_kernel() {
        let (n, k) = (16, 512);
        let weights = Tensor::from_vec(noise(n * k, 3, 0.05), (n, k), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&weights, GgmlDType::Q6K).unwrap();
        let exact_w = q
            .dequantize(&Device::Cpu)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let raw = q.data().unwrap();
        let lhs = noise(k, 5, 0.8);
        let Some(got) = q6k_matvec(q6k_blocks(&raw, n, k).unwrap(), n, k, &lhs) else {
            assert!(!available());
            return;
        };
        let want = candle_matvec(&raw, n, k, &lhs);
        for row in 0..n {
            let exact: f32 = exact_w[row].iter().zip(&lhs).map(|(w, x)| w * x).sum();
            let (ours, theirs) = ((got[row] - exact).abs(), (want[row] - exact).abs());
            assert!(
                (ours - theirs).abs() < 1e-4,
                "row {row}: {ours} vs {theirs}"
            );
        }
    }
}
