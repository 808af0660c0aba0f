//! Where the dense GEMM of a CPU quantized layer starts to pay: candle's quantized matmul vs
//! dequantize + f32 GEMM (what `weights/gemm.rs` does from `DENSE_GEMM_MIN_ROWS` rows), on the
//! projection shapes and block types of the 0.5B and 1.5B Q4_K_M models, for a range of activation
//! rows. The last column says whether a row's numbers depend on how many rows share the call.
//! A decode step of B sequences is B rows; a prefill is the prompt's length.
//!
//! RAYON_NUM_THREADS=2 cargo run --release -p opt-native-inference --example bench_gemm_rows -- [REPS] [ROWS,...]
//! Both paths run interleaved, REPS times each, and the fastest of each is kept: on a shared machine the
//! minimum is the time without interference.

use std::time::Instant;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};

type BoxError = Box<dyn std::error::Error>;

/// (name, out, in, block type) of the 0.5B model's projections as candle holds them on CPU
/// (its Q5_0 matrices are re-encoded as Q8_0 at load).
const SHAPES: [(&str, usize, usize, GgmlDType); 9] = [
    ("0.5B q/o 896x896 Q8_0", 896, 896, GgmlDType::Q8_0),
    ("0.5B gate/up 4864x896 Q8_0", 4864, 896, GgmlDType::Q8_0),
    ("0.5B q/o padded 896x1024 Q8_0", 896, 1024, GgmlDType::Q8_0),
    (
        "0.5B gate/up padded 4864x1024 Q8_0",
        4864,
        1024,
        GgmlDType::Q8_0,
    ),
    ("0.5B down 896x4864 Q4_K", 896, 4864, GgmlDType::Q4K),
    ("0.5B down 896x4864 Q6_K", 896, 4864, GgmlDType::Q6K),
    ("1.5B gate/up 8960x1536 Q4_K", 8960, 1536, GgmlDType::Q4K),
    ("1.5B down 1536x8960 Q6_K", 1536, 8960, GgmlDType::Q6K),
    ("1.5B q/o 1536x1536 Q8_0", 1536, 1536, GgmlDType::Q8_0),
];

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reps: usize = args.first().map_or(Ok(40), |s| s.parse())?;
    let rows: Vec<usize> = match args.get(1) {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => vec![1, 2, 4, 8, 12, 16, 24, 32, 64],
    };
    println!("| matrix | rows | quantized µs | dequantize + GEMM µs | dense / quantized | max abs diff | row 0 alone vs in the call |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, out, inp, dtype) in SHAPES {
        let weight = random_weight(out, inp, dtype)?;
        let qmatmul =
            QMatMul::from_qtensor(QTensor::quantize(&weight.dequantize(&Device::Cpu)?, dtype)?)?;
        for &n in &rows {
            let xs = Tensor::randn(0f32, 1f32, (n, inp), &Device::Cpu)?;
            let (quant, dense) = time_both(&qmatmul, &weight, &xs, reps)?;
            let diff = max_abs_diff(
                &qmatmul.forward(&xs)?,
                &xs.matmul(&weight.dequantize(&Device::Cpu)?.t()?)?,
            )?;
            let alone = qmatmul.forward(&xs.narrow(0, 0, 1)?)?;
            let row_dep = max_abs_diff(&alone, &qmatmul.forward(&xs)?.narrow(0, 0, 1)?)?;
            println!(
                "| {name} | {n} | {quant:.0} | {dense:.0} | {:.2} | {diff:.1e} | {row_dep:.1e} |",
                dense / quant
            );
        }
    }
    Ok(())
}

fn random_weight(out: usize, inp: usize, dtype: GgmlDType) -> candle_core::Result<QTensor> {
    let w = Tensor::randn(0f32, 0.05f32, (out, inp), &Device::Cpu)?;
    QTensor::quantize(&w, dtype)
}

/// Fastest times in µs of the quantized matmul and of dequantize + dense matmul, run alternately.
fn time_both(
    qmatmul: &QMatMul,
    weight: &QTensor,
    xs: &Tensor,
    reps: usize,
) -> candle_core::Result<(f64, f64)> {
    let dense = || -> candle_core::Result<Tensor> {
        let w = weight.dequantize(&Device::Cpu)?; // (out, in)
        xs.matmul(&w.t()?)
    };
    qmatmul.forward(xs)?; // warm-up
    dense()?;
    let (mut quant_us, mut dense_us) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let start = Instant::now();
        qmatmul.forward(xs)?;
        quant_us.push(start.elapsed().as_secs_f64() * 1e6);
        let start = Instant::now();
        dense()?;
        dense_us.push(start.elapsed().as_secs_f64() * 1e6);
    }
    Ok((fastest(&quant_us), fastest(&dense_us)))
}

fn fastest(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

/// The two paths differ by the quantized kernel's 8-bit rounding of the activations.
fn max_abs_diff(a: &Tensor, b: &Tensor) -> candle_core::Result<f32> {
    (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}
