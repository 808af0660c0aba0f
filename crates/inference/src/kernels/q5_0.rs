//! Q5_0 weights x Q8_0 activations on the CPU, with the weights kept as the file stores them.
//!
//! llama.cpp's Q4_K_M/Q5_K_M recipes store every matrix whose rows are not a multiple of 256 as
//! Q5_0 (all of Qwen2.5-0.5B's hidden-size-896 projections), and candle 0.11 has only a scalar
//! Q5_0 dot product. Until now those weights were re-encoded as Q8_0 at load, which reads and
//! keeps 55 % more bytes (34 per 32 weights instead of 22). Here the blocks stay Q5_0: candle's
//! own matmul driver (activations quantized once per call to Q8_0, its thread pool, row tiles of
//! 16 that reuse each loaded weight quad) calls the AVX2/FMA dot products below, chosen at run
//! time, with a portable scalar fallback. The integer sums are the ones the Q8_0 re-encoding gave.

use std::borrow::Cow;

use candle_core::quantized::k_quants::{self, GgmlType};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use half::f16;

/// Weights (and activations) per block.
pub const BLOCK: usize = 32;

/// One Q5_0 block as GGUF stores it: value `j` is `d * (q_j - 16)`, where the low four bits of
/// `q_j` are the low nibble of `qs[j]` (`j < 16`) or the high nibble of `qs[j - 16]`, and its fifth
/// bit is bit `j` of `qh`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Q5_0Block {
    d: f16,
    qh: [u8; 4],
    qs: [u8; BLOCK / 2],
}

/// 32 activations as `d * q` with `q` an i8: llama.cpp's Q8_0, quantized as candle quantizes it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Q8Block {
    d: f16,
    qs: [i8; BLOCK],
}

const Q5_0_BYTES: usize = 22;
const _: () = assert!(std::mem::size_of::<Q5_0Block>() == Q5_0_BYTES);

impl Q5_0Block {
    /// The block's 32 integers `q - 16`, in -16..16.
    fn values(&self) -> [i8; BLOCK] {
        let high = u32::from_le_bytes(self.qh);
        std::array::from_fn(|j| {
            let nibble = if j < BLOCK / 2 {
                self.qs[j] & 0x0f
            } else {
                self.qs[j - BLOCK / 2] >> 4
            };
            (nibble | ((((high >> j) & 1) as u8) << 4)) as i8 - 16
        })
    }
}

fn scalar_dot(xs: &[Q5_0Block], ys: &[Q8Block]) -> f32 {
    xs.iter()
        .zip(ys)
        .map(|(x, y)| {
            let sum: i32 = x
                .values()
                .iter()
                .zip(&y.qs)
                .map(|(&a, &b)| a as i32 * b as i32)
                .sum();
            x.d.to_f32() * y.d.to_f32() * sum as f32
        })
        .sum()
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

impl GgmlType for Q5_0Block {
    const DTYPE: GgmlDType = GgmlDType::Q5_0;
    const BLCK_SIZE: usize = BLOCK;
    type VecDotType = Q8Block;

    fn to_float(xs: &[Self], ys: &mut [f32]) {
        for (block, out) in xs.iter().zip(ys.chunks_exact_mut(BLOCK)) {
            let d = block.d.to_f32();
            for (y, q) in out.iter_mut().zip(block.values()) {
                *y = d * q as f32;
            }
        }
    }

    /// ggml's reference quantization: the scale maps the value of largest magnitude to -16.
    fn from_float(xs: &[f32], ys: &mut [Self]) {
        for (chunk, block) in xs.chunks_exact(BLOCK).zip(ys.iter_mut()) {
            let extreme =
                chunk
                    .iter()
                    .copied()
                    .fold(0f32, |best, x| if x.abs() > best.abs() { x } else { best });
            let d = extreme / -16.0;
            let id = if d != 0.0 { 1.0 / d } else { 0.0 };
            let q: [u8; BLOCK] =
                std::array::from_fn(|j| ((chunk[j] * id + 16.5) as i32).clamp(0, 31) as u8);
            let mut qh = 0u32;
            for (j, &value) in q.iter().enumerate() {
                qh |= ((value >> 4) as u32 & 1) << j;
            }
            block.d = f16::from_f32(d);
            block.qh = qh.to_le_bytes();
            block.qs = std::array::from_fn(|j| (q[j] & 0x0f) | ((q[j + BLOCK / 2] & 0x0f) << 4));
        }
    }

    fn vec_dot(_n: usize, xs: &[Self], ys: &[Q8Block]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            return unsafe { avx2::dot(xs, ys) };
        }
        scalar_dot(xs, ys)
    }

    fn vec_dot_4(
        n: usize,
        xs0: &[Self],
        xs1: &[Self],
        xs2: &[Self],
        xs3: &[Self],
        ys: &[Q8Block],
    ) -> (f32, f32, f32, f32) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: as in `vec_dot`.
            let [a, b, c, d] = unsafe { avx2::dot4([xs0, xs1, xs2, xs3], ys) };
            return (a, b, c, d);
        }
        (
            Self::vec_dot(n, xs0, ys),
            Self::vec_dot(n, xs1, ys),
            Self::vec_dot(n, xs2, ys),
            Self::vec_dot(n, xs3, ys),
        )
    }

    fn vec_dot_unopt(_n: usize, xs: &[Self], ys: &[Q8Block]) -> f32 {
        scalar_dot(xs, ys)
    }
}

impl GgmlType for Q8Block {
    const DTYPE: GgmlDType = GgmlDType::Q8_0;
    const BLCK_SIZE: usize = BLOCK;
    type VecDotType = Q8Block;

    fn to_float(xs: &[Self], ys: &mut [f32]) {
        for (block, out) in xs.iter().zip(ys.chunks_exact_mut(BLOCK)) {
            let d = block.d.to_f32();
            for (y, &q) in out.iter_mut().zip(&block.qs) {
                *y = d * q as f32;
            }
        }
    }

    /// As candle's `BlockQ8_0::from_float`: `d = max|x| / 127`, `q = round(x / d)`.
    fn from_float(xs: &[f32], ys: &mut [Self]) {
        for (chunk, block) in xs.chunks_exact(BLOCK).zip(ys.iter_mut()) {
            let amax = chunk.iter().fold(0f32, |m, x| m.max(x.abs()));
            let d = amax / 127.0;
            let id = if d != 0.0 { 1.0 / d } else { 0.0 };
            block.d = f16::from_f32(d);
            block.qs = std::array::from_fn(|j| (chunk[j] * id).round() as i8);
        }
    }

    fn vec_dot(n: usize, xs: &[Self], ys: &[Self]) -> f32 {
        Self::vec_dot_unopt(n, xs, ys)
    }

    fn vec_dot_unopt(_n: usize, xs: &[Self], ys: &[Self]) -> f32 {
        xs.iter()
            .zip(ys)
            .map(|(x, y)| {
                let sum: i32 =
                    x.qs.iter()
                        .zip(&y.qs)
                        .map(|(&a, &b)| a as i32 * b as i32)
                        .sum();
                x.d.to_f32() * y.d.to_f32() * sum as f32
            })
            .sum()
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{Q5_0Block, Q8Block};

    /// The block's 32 integers `q - 16` as i8 lanes: the nibbles, with `0xf0` or-ed in where the
    /// fifth bit is clear (`nibble - 16` in two's complement).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn values(block: &Q5_0Block) -> __m256i {
        let packed = _mm_loadu_si128(block.qs.as_ptr() as *const __m128i);
        let nibbles = _mm256_and_si256(
            _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed),
            _mm256_set1_epi8(0x0f),
        );
        // Byte j takes byte j / 8 of the fifth bits, then is 0xff iff its bit j % 8 is set.
        let fifth = i32::from_le_bytes(block.qh);
        let spread = _mm256_shuffle_epi8(
            _mm256_set1_epi32(fifth),
            _mm256_set_epi64x(
                0x0303_0303_0303_0303,
                0x0202_0202_0202_0202,
                0x0101_0101_0101_0101,
                0,
            ),
        );
        let others = _mm256_set1_epi64x(0x7fbf_dfef_f7fb_fdfe_u64 as i64);
        let set = _mm256_cmpeq_epi8(_mm256_or_si256(spread, others), _mm256_set1_epi64x(-1));
        _mm256_or_si256(
            nibbles,
            _mm256_andnot_si256(set, _mm256_set1_epi8(0xf0_u8 as i8)),
        )
    }

    /// Eight f32 partial sums of the 32 products of two i8 vectors (|w| ≤ 16, so the pairwise
    /// i16 sums never saturate).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn products(w: __m256i, x: __m256i) -> __m256 {
        let pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
        _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sum(v: __m256) -> f32 {
        let halves = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let pairs = _mm_add_ps(halves, _mm_movehl_ps(halves, halves));
        _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)))
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot(w: &[Q5_0Block], x: &[Q8Block]) -> f32 {
        let mut acc = _mm256_setzero_ps();
        for (wb, xb) in w.iter().zip(x) {
            let xv = _mm256_loadu_si256(xb.qs.as_ptr() as *const __m256i);
            let d = _mm256_set1_ps(wb.d.to_f32() * xb.d.to_f32());
            acc = _mm256_fmadd_ps(d, products(values(wb), xv), acc);
        }
        sum(acc)
    }

    /// Four weight rows against one activation row, each activation block loaded once.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot4(w: [&[Q5_0Block]; 4], x: &[Q8Block]) -> [f32; 4] {
        let mut acc = [_mm256_setzero_ps(); 4];
        for (i, xb) in x.iter().enumerate() {
            let xv = _mm256_loadu_si256(xb.qs.as_ptr() as *const __m256i);
            let dx = xb.d.to_f32();
            for (row, acc) in w.iter().zip(acc.iter_mut()) {
                let wb = &row[i];
                let d = _mm256_set1_ps(wb.d.to_f32() * dx);
                *acc = _mm256_fmadd_ps(d, products(values(wb), xv), *acc);
            }
        }
        acc.map(|v| sum(v))
    }
}

/// Whether `weight` takes this kernel: a Q5_0 tensor in CPU memory.
pub fn handles(weight: &QTensor) -> bool {
    weight.dtype() == GgmlDType::Q5_0 && weight.device().is_cpu()
}

/// The tensor's blocks, borrowed when its storage is aligned (it always is for CPU tensors).
fn blocks(raw: &[u8]) -> candle_core::Result<Cow<'_, [Q5_0Block]>> {
    if !raw.len().is_multiple_of(Q5_0_BYTES) {
        candle_core::bail!("Q5_0 data of {} bytes is not whole blocks", raw.len())
    }
    let count = raw.len() / Q5_0_BYTES;
    if (raw.as_ptr() as usize).is_multiple_of(std::mem::align_of::<Q5_0Block>()) {
        // SAFETY: the length and alignment are checked; every bit pattern is a valid block.
        let view = unsafe { std::slice::from_raw_parts(raw.as_ptr() as *const Q5_0Block, count) };
        return Ok(Cow::Borrowed(view));
    }
    Ok(Cow::Owned(
        raw.chunks_exact(Q5_0_BYTES)
            .map(|b| Q5_0Block {
                d: f16::from_le_bytes([b[0], b[1]]),
                qh: [b[2], b[3], b[4], b[5]],
                qs: std::array::from_fn(|j| b[6 + j]),
            })
            .collect(),
    ))
}

/// `xs (…, k)` x `weight (n, k)^T` -> `(…, n)` for a Q5_0 `weight` (see [`handles`]).
pub fn forward(weight: &QTensor, xs: &Tensor) -> candle_core::Result<Tensor> {
    let (n, k) = weight.shape().dims2()?;
    let dims = xs.dims();
    let (rows_shape, in_dim) = dims.split_at(dims.len() - 1);
    if in_dim != [k] || !k.is_multiple_of(BLOCK) {
        candle_core::bail!("Q5_0 matmul of {dims:?} with a ({n}, {k}) weight")
    }
    let rows: usize = rows_shape.iter().product();
    let lhs = xs.flatten_all()?.to_vec1::<f32>()?;
    let raw = weight.data()?;
    let rhs = blocks(&raw)?;
    let mut dst = vec![0f32; rows * n];
    k_quants::matmul::<Q5_0Block>((rows, k, n), &lhs, &rhs, &mut dst)?;
    let mut out_shape = rows_shape.to_vec();
    out_shape.push(n);
    Tensor::from_vec(dst, out_shape, &Device::Cpu)
}

#[cfg(test)]
mod tests;
