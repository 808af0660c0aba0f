//! The CPU prefill path of quantized layers: dequantize the weight, then one dense f32 GEMM. With
//! `OPT_NATIVE_CPU_INT8=1`, weights that candle's tiled x86 int8 kernels cover stay quantized: they
//! beat the GEMM at every row count measured, 4-50x (`examples/bench_gemm_rows.rs`).

use std::cell::Cell;

use candle_core::quantized::k_quants::{self, BlockQ4K};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::Tensor;

use super::q6k_row;
use crate::repack::{int8_prefill, tiled_kernel_covers};

/// Rows from which a CPU matmul dequantizes the weight and runs a dense f32 GEMM. candle's generic
/// CPU quantized matmul is one vec-dot per (row, column) with no tiling across rows; for a prefill
/// the GEMM is ~3x faster even counting the dequantization. (At 8 to 16 rows the generic kernel
/// is still faster on 0.5B Q8_0 shapes, but from 8 rows a plain forward and a scored choice take
/// the same path, which the scoring tests rely on.)
const DENSE_GEMM_MIN_ROWS: usize = 8;
/// Largest weight dequantized for it (512 MiB of f32: a 7B MLP matrix is 68M). Bigger ones, in practice
/// only LM heads (136M-545M), stay quantized: they see a few scored rows, not a whole prefill.
const DENSE_GEMM_MAX_ELEMENTS: usize = 128 << 20;

thread_local! {
    /// Set by [`RowIndependentGemm`] on the thread that runs a forward.
    static ROW_INDEPENDENT: Cell<bool> = const { Cell::new(false) };
}

/// While alive, every CPU projection whose weight fits [`DENSE_GEMM_MAX_ELEMENTS`] takes the dense
/// GEMM however few rows it gets. A position's numbers then no longer depend on how many rows
/// share the call (the quantized kernel also rounds activations to 8 bits), so a choice scores the
/// same alone, next to other choices, or inside one plain forward of prompt + choice.
pub(crate) struct RowIndependentGemm {
    previous: bool,
}

impl RowIndependentGemm {
    pub(crate) fn enter() -> Self {
        Self {
            previous: ROW_INDEPENDENT.with(|flag| flag.replace(true)),
        }
    }
}

impl Drop for RowIndependentGemm {
    fn drop(&mut self) {
        ROW_INDEPENDENT.with(|flag| flag.set(self.previous));
    }
}

pub(super) fn prefers_dense_gemm(weight: &QTensor, xs: &Tensor) -> bool {
    let rows = xs.elem_count() / xs.dim(candle_core::D::Minus1).unwrap_or(1).max(1);
    let row_independent = ROW_INDEPENDENT.with(Cell::get);
    let min_rows = if row_independent {
        1
    } else {
        DENSE_GEMM_MIN_ROWS
    };
    weight.device().is_cpu()
        && rows >= min_rows
        && (row_independent || !is_decode_step(xs))
        && weight.shape().elem_count() <= DENSE_GEMM_MAX_ELEMENTS
        && !(int8_prefill() && tiled_kernel_covers(weight))
}

/// `(batch, 1, in)`: one new position per sequence. However many sequences decode together, the
/// dequantized weight is reused by too few rows to pay for itself: at 8 sequences the dense path
/// took 1 062 ms a step, the quantized kernel 150 ms (docs/benchmarks.md). The quantized kernel
/// also gives each row the numbers it gets alone.
fn is_decode_step(xs: &Tensor) -> bool {
    let dims = xs.dims();
    dims.len() >= 3 && dims[dims.len() - 2] == 1
}

/// One activation row (a single sequence's decode step) against a CPU Q4_K or Q6_K weight, off
/// candle's tiled kernels, which pay only when several rows share each weight load.
/// - Q4_K: candle's generic vec-dot kernel. For one row the tiled one streamed a 151936 x 1536
///   matrix at 19-21 GB/s, the generic one at 32-36 GB/s; from 8 rows the tiled one is 2x faster
///   (`examples/bench_decode_rows.rs`). Both round the activations to the same 8-bit blocks.
/// - Q6_K: our AVX-512 VNNI kernel ([`q6k_row`]) where the CPU has it; candle's kernels stream
///   Q6_K at ~16 GB/s.
pub(super) fn single_row_kernel(
    weight: &QTensor,
    xs: &Tensor,
) -> candle_core::Result<Option<Tensor>> {
    let Some(&k) = xs.dims().last() else {
        return Ok(None);
    };
    let dtype = weight.dtype();
    if !weight.device().is_cpu() || xs.elem_count() != k {
        return Ok(None);
    }
    if dtype != GgmlDType::Q4K && !(dtype == GgmlDType::Q6K && q6k_row::available()) {
        return Ok(None);
    }
    let (n, wk) = weight.shape().dims2()?;
    let data = weight.data()?;
    let lhs = xs.flatten_all()?.to_vec1::<f32>()?;
    let dst = if dtype == GgmlDType::Q4K {
        let Some(blocks) = q4k_blocks(&data, n * wk) else {
            return Ok(None);
        };
        let mut dst = vec![0f32; n];
        k_quants::matmul((1, wk, n), &lhs, blocks, &mut dst)?;
        dst
    } else {
        let ys =
            q6k_row::q6k_blocks(&data, n, wk).and_then(|w| q6k_row::q6k_matvec(w, n, wk, &lhs));
        let Some(dst) = ys else {
            return Ok(None);
        };
        dst
    };
    let mut shape = xs.dims().to_vec();
    if let Some(last) = shape.last_mut() {
        *last = n;
    }
    Tensor::from_vec(dst, shape, xs.device()).map(Some)
}

/// The raw bytes of `elements` Q4_K weights as blocks, when they are whole and aligned blocks.
fn q4k_blocks(raw: &[u8], elements: usize) -> Option<&[BlockQ4K]> {
    let size = std::mem::size_of::<BlockQ4K>();
    let count = elements / k_quants::QK_K;
    let aligned = (raw.as_ptr() as usize).is_multiple_of(std::mem::align_of::<BlockQ4K>());
    if !aligned || raw.len() != count * size || !elements.is_multiple_of(k_quants::QK_K) {
        return None;
    }
    // SAFETY: `raw` holds exactly `count` blocks at `BlockQ4K`'s alignment, and a block is plain
    // data (f16 scales and bytes) for which every bit pattern is valid.
    Some(unsafe { std::slice::from_raw_parts(raw.as_ptr().cast::<BlockQ4K>(), count) })
}

/// `(…, in) x (out, in)^T` through a transient f32 copy of the weight (never cached: a 7B model
/// would need 28 GiB).
pub(super) fn dense_gemm(weight: &QTensor, xs: &Tensor) -> candle_core::Result<Tensor> {
    let w = weight.dequantize(&weight.device())?; // (out, in)
    let dims = xs.dims();
    let (rows_shape, in_dim) = dims.split_at(dims.len() - 1);
    let rows: usize = rows_shape.iter().product();
    let ys = xs.reshape((rows, in_dim[0]))?.matmul(&w.t()?)?; // (rows, out)
    let mut out_shape = rows_shape.to_vec();
    out_shape.push(w.dim(0)?);
    ys.reshape(out_shape)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::repack::{tile_level, TileLevel};
    use crate::weights::Linear;
    use candle_core::quantized::{GgmlDType, QMatMul};
    use candle_core::{DType, Device, Module};

    fn ramp(dims: (usize, usize), scale: f32) -> Tensor {
        let n = dims.0 * dims.1;
        let data: Vec<f32> = (0..n)
            .map(|i| ((i * 29 % 83) as f32 - 41.0) * scale)
            .collect();
        Tensor::from_vec(data, dims, &Device::Cpu).unwrap()
    }

    /// A (32 out, 64 in) Q8_0 layer and its dequantized weight.
    fn small_q8_0_layer() -> (Linear, Tensor) {
        let q = Arc::new(QTensor::quantize(&ramp((32, 64), 0.01), GgmlDType::Q8_0).unwrap());
        let exact_w = q.dequantize(&Device::Cpu).unwrap();
        let linear = Linear::Quantized {
            weight: QMatMul::from_arc(q).unwrap(),
            bias: None,
            in_pad: 0,
        };
        (linear, exact_w)
    }

    /// From 8 rows the CPU path is an exact f32 GEMM over the dequantized weight; one row goes
    /// through the quantized kernel, which also quantizes the activations (visibly less exact).
    #[test]
    fn prefill_rows_use_the_dequantized_weight_exactly() {
        let (linear, exact_w) = small_q8_0_layer();
        let xs = ramp((DENSE_GEMM_MIN_ROWS, 64), 0.037);
        let expected = xs.matmul(&exact_w.t().unwrap()).unwrap();
        let batched = linear.forward(&xs.unsqueeze(0).unwrap()).unwrap();
        let dense_err = max_diff(&batched.squeeze(0).unwrap(), &expected);
        assert!(dense_err < 1e-5, "dense path error {dense_err}");
        let one_row = linear.forward(&xs.narrow(0, 0, 1).unwrap()).unwrap();
        let quant_err = max_diff(&one_row, &expected.narrow(0, 0, 1).unwrap());
        assert!(
            quant_err > dense_err && quant_err < 0.05,
            "row error {quant_err}"
        );
    }

    /// A decode step of many sequences, `(b, 1, in)`, stays on the quantized kernel: each row gets
    /// exactly what it gets decoded alone, not the dense product.
    #[test]
    fn a_batched_decode_step_gives_each_row_its_single_row_numbers() {
        let (linear, exact_w) = small_q8_0_layer();
        let xs = ramp((DENSE_GEMM_MIN_ROWS, 64), 0.037);
        let step = linear.forward(&xs.unsqueeze(1).unwrap()).unwrap(); // (b, 1, out)
        for row in 0..DENSE_GEMM_MIN_ROWS {
            let alone = linear
                .forward(&xs.narrow(0, row, 1).unwrap().unsqueeze(1).unwrap())
                .unwrap();
            let batched = step.narrow(0, row, 1).unwrap();
            assert_eq!(max_diff(&batched, &alone), 0.0, "row {row}");
        }
        let dense = xs.matmul(&exact_w.t().unwrap()).unwrap();
        assert!(max_diff(&step.squeeze(1).unwrap(), &dense) > 1e-5);
    }

    /// The quantized kernel refuses strided input; the layer must hand it a contiguous copy.
    #[test]
    fn quantized_layer_accepts_a_narrowed_view() {
        let q = Arc::new(QTensor::quantize(&ramp((32, 64), 0.01), GgmlDType::Q8_0).unwrap());
        let linear = Linear::Quantized {
            weight: QMatMul::from_arc(q).unwrap(),
            bias: None,
            in_pad: 0,
        };
        let xs = ramp((6, 64), 0.037).reshape((2, 3, 64)).unwrap();
        let strided = xs.narrow(1, 0, 1).unwrap(); // (2, 1, 64), stride (192, 64, 1)
        assert!(!strided.is_contiguous());
        let got = linear.forward(&strided).unwrap();
        let want = linear.forward(&strided.contiguous().unwrap()).unwrap();
        assert_eq!(max_diff(&got, &want), 0.0);
    }

    #[test]
    fn row_independent_scope_takes_the_dense_gemm_for_one_row() {
        let q = Arc::new(QTensor::quantize(&ramp((32, 64), 0.01), GgmlDType::Q8_0).unwrap());
        let exact = ramp((1, 64), 0.037)
            .matmul(&q.dequantize(&Device::Cpu).unwrap().t().unwrap())
            .unwrap();
        let linear = Linear::Quantized {
            weight: QMatMul::from_arc(q).unwrap(),
            bias: None,
            in_pad: 0,
        };
        let one_row = ramp((1, 64), 0.037);
        let plain = linear.forward(&one_row).unwrap();
        let scoped = {
            let _scope = RowIndependentGemm::enter();
            linear.forward(&one_row).unwrap()
        };
        assert!(max_diff(&scoped, &exact) < 1e-5);
        assert!(
            max_diff(&plain, &exact) > 1e-5,
            "outside the scope one row stays quantized"
        );
        assert!(max_diff(&linear.forward(&one_row).unwrap(), &plain) == 0.0);
    }

    /// With the switch on, a weight of candle's tiled kernels stays on them at prefill row counts, in and out of
    /// the row-independent scope: the layer's numbers are the quantized kernel's, bit for bit.
    #[test]
    fn repacked_weights_stay_quantized_at_prefill_rows() {
        std::env::set_var(crate::repack::CPU_INT8_ENV, "1");
        for dtype in [GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::Q8_0] {
            let q = Arc::new(QTensor::quantize(&ramp((32, 256), 0.01), dtype).unwrap());
            let exact_w = q.dequantize(&Device::Cpu).unwrap();
            let kernel = QMatMul::from_arc(q.clone()).unwrap();
            let linear = Linear::Quantized {
                weight: QMatMul::from_arc(q.clone()).unwrap(),
                bias: None,
                in_pad: 0,
            };
            let xs = ramp((DENSE_GEMM_MIN_ROWS + 8, 256), 0.037);
            let dense = xs.matmul(&exact_w.t().unwrap()).unwrap();
            let quantized = kernel.forward(&xs).unwrap();
            let expected = if tiled_kernel_covers(&q) {
                &quantized
            } else {
                &dense
            };
            assert_eq!(
                max_diff(&linear.forward(&xs).unwrap(), expected),
                0.0,
                "{dtype:?}"
            );
            let _scope = RowIndependentGemm::enter();
            assert_eq!(
                max_diff(&linear.forward(&xs).unwrap(), expected),
                0.0,
                "{dtype:?}"
            );
        }
    }

    /// A single sequence's decode step on a Q4_K weight takes candle's generic kernel: its output
    /// is that kernel's, bit for bit, and within the activations' 8-bit rounding of the exact
    /// product, as a batched step's rows (the tiled kernel) are.
    #[test]
    fn a_single_q4k_decode_row_takes_the_generic_kernel() {
        let q = Arc::new(QTensor::quantize(&ramp((32, 512), 0.01), GgmlDType::Q4K).unwrap());
        let exact_w = q.dequantize(&Device::Cpu).unwrap();
        let linear = Linear::Quantized {
            weight: QMatMul::from_arc(q.clone()).unwrap(),
            bias: None,
            in_pad: 0,
        };
        let xs = ramp((4, 512), 0.037);
        let row = xs.narrow(0, 1, 1).unwrap();
        let step = linear.forward(&row.unsqueeze(1).unwrap()).unwrap(); // (1, 1, 32)
        assert_eq!(step.dims(), &[1, 1, 32]);
        let data = q.data().unwrap();
        let blocks = q4k_blocks(&data, 32 * 512).expect("aligned Q4_K blocks");
        let mut generic = vec![0f32; 32];
        let lhs = row.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        k_quants::matmul((1, 512, 32), &lhs, blocks, &mut generic).unwrap();
        let generic = Tensor::from_vec(generic, (1, 1, 32), &Device::Cpu).unwrap();
        assert_eq!(max_diff(&step, &generic), 0.0);
        if tile_level().is_some() {
            // candle's own forward of one row (its tiled kernel) gives other last digits.
            let tiled = QMatMul::from_arc(q.clone()).unwrap().forward(&row).unwrap();
            assert!(max_diff(&tiled.unsqueeze(1).unwrap(), &generic) > 0.0);
        }
        let exact = row
            .matmul(&exact_w.t().unwrap())
            .unwrap()
            .unsqueeze(1)
            .unwrap();
        let batched = linear.forward(&xs.unsqueeze(1).unwrap()).unwrap(); // (4, 1, 32)
        let batched_row = batched.narrow(0, 1, 1).unwrap();
        let (single_err, batched_err) = (max_diff(&step, &exact), max_diff(&batched_row, &exact));
        // The same 8-bit activation rounding in both: the same distance from the exact product.
        assert!(
            (single_err - batched_err).abs() < 1e-4 * batched_err.max(1.0),
            "{single_err} {batched_err}"
        );
        assert!(max_diff(&step, &batched_row) < 1e-3);
        // Blocks that do not fill the weight are refused rather than read past.
        assert!(q4k_blocks(&data[..data.len() - 1], 32 * 512).is_none());
    }

    /// A single Q6_K decode row takes the AVX-512 VNNI kernel where the CPU has it (bit for bit),
    /// else candle's own one-row kernel.
    #[test]
    fn a_single_q6k_decode_row_takes_the_vnni_kernel_where_the_cpu_has_it() {
        let q = Arc::new(QTensor::quantize(&ramp((32, 512), 0.01), GgmlDType::Q6K).unwrap());
        let linear = Linear::Quantized {
            weight: QMatMul::from_arc(q.clone()).unwrap(),
            bias: None,
            in_pad: 0,
        };
        let row = ramp((1, 512), 0.037);
        let step = linear.forward(&row.unsqueeze(1).unwrap()).unwrap(); // (1, 1, 32)
        let data = q.data().unwrap();
        let lhs = row.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let ours = q6k_row::q6k_blocks(&data, 32, 512)
            .and_then(|blocks| q6k_row::q6k_matvec(blocks, 32, 512, &lhs));
        assert_eq!(ours.is_some(), q6k_row::available());
        let want = match ours {
            Some(values) => Tensor::from_vec(values, (1, 1, 32), &Device::Cpu).unwrap(),
            None => QMatMul::from_arc(q)
                .unwrap()
                .forward(&row)
                .unwrap()
                .unsqueeze(1)
                .unwrap(),
        };
        assert_eq!(max_diff(&step, &want), 0.0);
    }

    /// The rule restated from candle: Q4_K and Q6_K whenever the x86 kernels exist, Q8_0 only with
    /// VNNI, and never a shape off the 16-row, 256-value tiles.
    #[test]
    fn repacked_kernel_rule_follows_candle() {
        let weight =
            |dims: (usize, usize), dtype| QTensor::quantize(&ramp(dims, 0.01), dtype).unwrap();
        let level = tile_level();
        assert_eq!(
            tiled_kernel_covers(&weight((32, 256), GgmlDType::Q4K)),
            level.is_some()
        );
        assert_eq!(
            tiled_kernel_covers(&weight((32, 256), GgmlDType::Q6K)),
            level.is_some()
        );
        assert_eq!(
            tiled_kernel_covers(&weight((32, 256), GgmlDType::Q8_0)),
            level == Some(TileLevel::Vnni)
        );
        assert!(!tiled_kernel_covers(&weight((24, 256), GgmlDType::Q4K)));
        assert!(!tiled_kernel_covers(&weight((32, 96), GgmlDType::Q8_0)));
        assert!(!tiled_kernel_covers(&weight((32, 256), GgmlDType::Q4_0)));
    }

    /// A Q8_0 layer padded for the tiled kernels takes unpadded input and gives the unpadded
    /// weight's product within the 8-bit rounding of the activations, at decode and prefill row
    /// counts; training reads back the unpadded weight exactly.
    #[test]
    fn a_padded_layer_computes_the_unpadded_product() {
        std::env::set_var(crate::repack::CPU_INT8_ENV, "1");
        let q = Arc::new(QTensor::quantize(&ramp((16, 896), 0.001), GgmlDType::Q8_0).unwrap());
        let exact_w = q.dequantize(&Device::Cpu).unwrap();
        let (padded, in_pad) = crate::repack::padded_for_tiles(q).unwrap();
        if tile_level() == Some(TileLevel::Vnni) {
            assert_eq!((in_pad, padded.shape().dims()), (128, &[16, 1024][..]));
        }
        let linear = Linear::Quantized {
            weight: QMatMul::from_arc(padded).unwrap(),
            bias: None,
            in_pad,
        };
        assert_eq!(linear.param_count(), 16 * 896);
        for rows in [1, DENSE_GEMM_MIN_ROWS + 3] {
            let xs = ramp((rows, 896), 0.037);
            let want = xs.matmul(&exact_w.t().unwrap()).unwrap();
            let got = linear
                .forward(&xs.unsqueeze(0).unwrap())
                .unwrap()
                .squeeze(0)
                .unwrap();
            let scale = max_diff(&want, &want.zeros_like().unwrap());
            assert!(max_diff(&got, &want) < 0.02 * scale, "{rows} rows");
        }
        let frozen = crate::train::lora_linear::LoraLinear::frozen(linear, DType::F32).unwrap();
        assert_eq!(max_diff(frozen.weight(), &exact_w), 0.0);
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap()
    }
}
