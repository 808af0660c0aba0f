//! The Q5_0 CPU kernel (`kernels::q5_0`) against the path it replaced (Q5_0 re-encoded as Q8_0 at
//! load, candle's AVX2 Q8_0 kernel) and against candle's own scalar Q5_0 kernel, on the 0.5B
//! default model's Q5_0 matrix shapes, interleaved in one run: time per matmul and weight bytes
//! read per second.
//!
//! cargo run --release -p opt-native-inference --example bench_q5_0 -- [ITERATIONS] [ROWS...]

use std::sync::Arc;
use std::time::Instant;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use opt_native_inference::kernels::q5_0;
use opt_native_inference::repack;

type BoxError = Box<dyn std::error::Error>;

/// (name, out, in): Qwen2.5-0.5B's projections that its Q4_K_M file stores as Q5_0.
const SHAPES: [(&str, usize, usize); 3] = [
    ("attn q/o 896x896", 896, 896),
    ("mlp gate/up 4864x896", 4864, 896),
    ("attn k 128x896", 128, 896),
];

fn ramp(rows: usize, cols: usize, seed: usize) -> candle_core::Result<Tensor> {
    let data: Vec<f32> = (0..rows * cols)
        .map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 - 1001.0) / 1001.0)
        .collect();
    Tensor::from_vec(data, (rows, cols), &Device::Cpu)
}

/// Median seconds of `f` over `iterations` calls, after one warm-up call.
fn median(
    iterations: usize,
    mut f: impl FnMut() -> candle_core::Result<Tensor>,
) -> candle_core::Result<f64> {
    f()?;
    let mut times: Vec<f64> = (0..iterations)
        .map(|_| {
            let started = Instant::now();
            f().map(|_| started.elapsed().as_secs_f64())
        })
        .collect::<candle_core::Result<_>>()?;
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times[times.len() / 2])
}

fn main() -> Result<(), BoxError> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let iterations = args.first().copied().unwrap_or(200);
    let rows: Vec<usize> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![1, 4]
    };
    println!("| matrix | rows | Q5_0 kernel µs | Q8_0 re-encoded µs | candle scalar Q5_0 µs | speed-up vs re-encoded | kernel GB/s |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, out, inp) in SHAPES {
        let weight = Arc::new(QTensor::quantize(&ramp(out, inp, 1)?, GgmlDType::Q5_0)?);
        let reencoded = QMatMul::from_arc(repack::for_cpu_kernels(weight.clone())?)?;
        let scalar = QMatMul::from_arc(weight.clone())?;
        let bytes = weight.storage_size_in_bytes() as f64;
        for &m in &rows {
            let xs = ramp(m, inp, 2)?;
            // Interleave the three so that machine noise hits them alike.
            let (mut ours, mut old, mut slow) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..5 {
                ours.push(median(iterations / 5, || q5_0::forward(&weight, &xs))?);
                old.push(median(iterations / 5, || reencoded.forward(&xs))?);
                slow.push(median((iterations / 50).max(1), || scalar.forward(&xs))?);
            }
            let mid = |v: &mut Vec<f64>| {
                v.sort_by(|a, b| a.total_cmp(b));
                v[v.len() / 2]
            };
            let (ours, old, slow) = (mid(&mut ours), mid(&mut old), mid(&mut slow));
            println!(
                "| {name} | {m} | {:.1} | {:.1} | {:.1} | {:.2}x | {:.1} |",
                ours * 1e6,
                old * 1e6,
                slow * 1e6,
                old / ours,
                bytes / ours / 1e9
            );
        }
    }
    Ok(())
}
