//! The kernel against candle on random blocks: candle's own (scalar) Q5_0 matmul, which quantizes
//! activations the same way, and candle's dequantize-then-f32-matmul.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn random(rows: usize, cols: usize, seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let data: Vec<f32> = (0..rows * cols)
        .map(|_| rng.random_range(-1.0f32..1.0) * if rng.random_bool(0.05) { 8.0 } else { 1.0 })
        .collect();
    Tensor::from_vec(data, (rows, cols), &Device::Cpu).unwrap()
}

fn q5_0(w: &Tensor) -> Arc<QTensor> {
    Arc::new(QTensor::quantize(w, GgmlDType::Q5_0).unwrap())
}

fn rows_of(t: &Tensor) -> Vec<Vec<f32>> {
    t.to_vec2().unwrap()
}

/// Largest |a - b| relative to the largest |b| of the row.
fn worst_relative(a: &Tensor, b: &Tensor) -> f32 {
    rows_of(a)
        .iter()
        .zip(rows_of(b))
        .map(|(ra, rb)| {
            let scale = rb.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            ra.iter()
                .zip(&rb)
                .fold(0f32, |m, (x, y)| m.max((x - y).abs() / scale))
        })
        .fold(0f32, f32::max)
}

#[test]
fn matches_candles_q5_0_matmul_on_random_blocks() {
    // One row (decode), a few rows, more than a 16-row tile; n with a tail after the quads.
    for (seed, (m, k, n)) in [(1, 64, 36), (3, 96, 37), (20, 128, 42), (2, 896, 130)]
        .into_iter()
        .enumerate()
    {
        let w = q5_0(&random(n, k, seed as u64));
        let xs = random(m, k, 100 + seed as u64);
        let candle = QMatMul::from_arc(w.clone()).unwrap().forward(&xs).unwrap();
        let ours = forward(&w, &xs).unwrap();
        assert_eq!(ours.dims(), &[m, n]);
        let err = worst_relative(&ours, &candle);
        assert!(err < 1e-5, "({m}, {k}, {n}): relative error {err}");
    }
}

#[test]
fn stays_within_activation_rounding_of_dequantize_then_matmul() {
    let (m, k, n) = (4, 256, 24);
    let w = q5_0(&random(n, k, 7));
    let xs = random(m, k, 8);
    let dense_w = rows_of(&w.dequantize(&Device::Cpu).unwrap());
    let exact = rows_of(
        &xs.matmul(&w.dequantize(&Device::Cpu).unwrap().t().unwrap())
            .unwrap(),
    );
    let ours = rows_of(&forward(&w, &xs).unwrap());
    let mut differs = false;
    for (r, x) in rows_of(&xs).iter().enumerate() {
        // Rounding x to 8 bits moves each element by at most half a step (max|x| / 127 per block,
        // plus the f16 rounding of that step), so output j moves by at most sum_i |w_ji| * that.
        let step: Vec<f32> = x
            .chunks(BLOCK)
            .map(|b| b.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0 * (0.5 + 2e-3))
            .collect();
        for j in 0..n {
            let bound: f32 = (0..k)
                .map(|i| dense_w[j][i].abs() * step[i / BLOCK])
                .sum::<f32>()
                + 1e-4;
            let err = (ours[r][j] - exact[r][j]).abs();
            assert!(err <= bound, "row {r} col {j}: {err} > {bound}");
            differs |= err > 0.0;
        }
    }
    assert!(
        differs,
        "the activations are quantized, so some output must differ"
    );
}

#[test]
fn simd_and_scalar_dot_products_agree() {
    let k = 512;
    let w = q5_0(&random(4, k, 11));
    let raw = w.data().unwrap();
    let rhs = blocks(&raw).unwrap();
    let rows: Vec<&[Q5_0Block]> = rhs.chunks_exact(k / BLOCK).collect();
    let x: Vec<f32> = rows_of(&random(1, k, 12)).remove(0);
    let mut xq = vec![
        Q8Block {
            d: f16::ZERO,
            qs: [0; BLOCK]
        };
        k / BLOCK
    ];
    Q8Block::from_float(&x, &mut xq);
    let scalar: Vec<f32> = rows.iter().map(|row| scalar_dot(row, &xq)).collect();
    let single: Vec<f32> = rows
        .iter()
        .map(|row| Q5_0Block::vec_dot(k, row, &xq))
        .collect();
    let (a, b, c, d) = Q5_0Block::vec_dot_4(k, rows[0], rows[1], rows[2], rows[3], &xq);
    for (got, want) in single
        .iter()
        .chain(&[a, b, c, d])
        .zip(scalar.iter().cycle())
    {
        assert!(
            (got - want).abs() <= 1e-5 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
}

#[test]
fn dequantizes_like_candle_and_quantizes_like_ggml() {
    let w = random(3, 64, 21);
    let q = q5_0(&w);
    let raw = q.data().unwrap();
    let ours = blocks(&raw).unwrap();
    let mut values = vec![0f32; 3 * 64];
    Q5_0Block::to_float(&ours, &mut values);
    let candle: Vec<f32> = q
        .dequantize(&Device::Cpu)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(values, candle);
    let mut requantized = vec![ours[0]; ours.len()];
    Q5_0Block::from_float(
        &w.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        &mut requantized,
    );
    assert_eq!(requantized, ours.to_vec());
}

#[test]
fn unaligned_bytes_are_copied_and_bad_shapes_refused() {
    let q = q5_0(&random(2, 32, 31));
    let raw = q.data().unwrap();
    let mut shifted = vec![0u8; raw.len() + 1];
    shifted[1..].copy_from_slice(&raw);
    let copied = blocks(&shifted[1..]).unwrap();
    assert!(matches!(copied, Cow::Owned(_)));
    assert_eq!(copied.as_ref(), blocks(&raw).unwrap().as_ref());
    assert!(blocks(&raw[..21]).is_err());
    assert!(forward(&q, &random(1, 64, 32)).is_err());
    assert!(handles(&q));
    assert!(!handles(
        &QTensor::quantize(&random(2, 32, 33), GgmlDType::Q8_0).unwrap()
    ));
}
