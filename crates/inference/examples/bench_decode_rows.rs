//! Decode-step speed of candle's CPU quantized matmul per block type: one activation row against
//! a weight too large for the caches (the 1.5B model's output head shape, 151936 x 1536), so every
//! weight byte streams from memory once per call, as in a decode step. Prints the bytes each type
//! stores, the fastest time, and the bytes per second that gives; compare with the copy-loop
//! bandwidth of `benches/generate.bench.ts`.
//!
//! RAYON_NUM_THREADS=2 cargo run --release -p opt-native-inference --example bench_decode_rows -- [REPS] [OUT] [M]
//! (M activation rows: a batched decode step of M sequences.) The last row of each type is the
//! crate's own `Linear` layer, which picks a kernel per row count and block type.

use std::time::Instant;

use candle_core::quantized::k_quants::{self, BlockQ4K, BlockQ6K, GgmlType};
use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use opt_native_inference::weights::Linear;

type BoxError = Box<dyn std::error::Error>;

const TYPES: [GgmlDType; 4] = [
    GgmlDType::Q4K,
    GgmlDType::Q6K,
    GgmlDType::Q8_0,
    GgmlDType::Q5K,
];

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reps: usize = args.first().map_or(Ok(10), |s| s.parse())?;
    let out: usize = args.get(1).map_or(Ok(151_936), |s| s.parse())?;
    let m: usize = args.get(2).map_or(Ok(1), |s| s.parse())?;
    let inp = 1536;
    let dense = Tensor::randn(0f32, 0.05f32, (out, inp), &Device::Cpu)?;
    let xs = Tensor::randn(0f32, 1f32, (m, inp), &Device::Cpu)?;
    println!("weight {out} x {inp}, {m} activation rows, fastest of {reps}");
    println!("| type | MB stored | ms per call | GB/s streamed |");
    println!("| --- | ---: | ---: | ---: |");
    for dtype in TYPES {
        let q = QTensor::quantize(&dense, dtype)?;
        let bytes = q.storage_size_in_bytes();
        let matmul = QMatMul::from_qtensor(q)?;
        let best = fastest_of(reps, || matmul.forward(&xs).map(drop))?;
        println!(
            "| {dtype:?} | {:.1} | {:.2} | {:.2} |",
            bytes as f64 / 1e6,
            best * 1e3,
            bytes as f64 / best / 1e9
        );
        let raw = q_data(&matmul)?;
        let generic = match dtype {
            GgmlDType::Q4K => Some(time_generic::<BlockQ4K>(&raw, &xs, out, inp, reps)?),
            GgmlDType::Q6K => Some(time_generic::<BlockQ6K>(&raw, &xs, out, inp, reps)?),
            _ => None,
        };
        if let Some(t) = generic {
            println!(
                "| {dtype:?} generic vec_dot | {:.1} | {:.2} | {:.2} |",
                bytes as f64 / 1e6,
                t * 1e3,
                bytes as f64 / t / 1e9
            );
        }
        let t = time_layer(matmul, &xs, reps)?;
        println!(
            "| {dtype:?} opt-native `Linear` (the model's path) | {:.1} | {:.2} | {:.2} |",
            bytes as f64 / 1e6,
            t * 1e3,
            bytes as f64 / t / 1e9
        );
    }
    Ok(())
}

/// The layer the model runs: a `(m, 1, in)` decode step through `Linear::forward`.
fn time_layer(weight: QMatMul, xs: &Tensor, reps: usize) -> Result<f64, BoxError> {
    let layer = Linear::Quantized {
        weight,
        bias: None,
        in_pad: 0,
    };
    let step = xs.unsqueeze(1)?;
    fastest_of(reps, || layer.forward(&step).map(drop))
}

/// Seconds of the fastest of `reps` calls, after one warm-up call.
fn fastest_of(
    reps: usize,
    mut call: impl FnMut() -> candle_core::Result<()>,
) -> Result<f64, BoxError> {
    call()?;
    let mut best = f64::INFINITY;
    for _ in 0..reps {
        let start = Instant::now();
        call()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn q_data(matmul: &QMatMul) -> Result<Vec<u8>, BoxError> {
    match matmul {
        QMatMul::QTensor(q) => Ok(q.data()?.into_owned()),
        _ => Err("not quantized".into()),
    }
}

fn time_generic<T: GgmlType>(
    raw: &[u8],
    xs: &Tensor,
    out: usize,
    inp: usize,
    reps: usize,
) -> Result<f64, BoxError> {
    let count = raw.len() / std::mem::size_of::<T>();
    let mut blocks = vec![T::zeros(); count];
    // SAFETY: `blocks` holds exactly `raw.len()` bytes of plain-old-data blocks.
    unsafe {
        std::ptr::copy_nonoverlapping(raw.as_ptr(), blocks.as_mut_ptr() as *mut u8, raw.len());
    }
    let lhs = xs.flatten_all()?.to_vec1::<f32>()?;
    let m = lhs.len() / inp;
    let mut dst = vec![0f32; m * out];
    fastest_of(reps, || {
        k_quants::matmul((m, inp, out), &lhs, &blocks, &mut dst)
    })
}
