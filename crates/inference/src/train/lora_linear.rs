//! A frozen linear layer with an optional trainable low-rank update:
//! `y = x·Wᵀ + b + scale · dropout(x)·Aᵀ·Bᵀ` (PEFT's `lora.Linear`).

use std::cell::RefCell;

use candle_core::quantized::QMatMul;
use candle_core::{DType, Device, Tensor, Var};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::ops;
use crate::error::{InferenceError, Result};
use crate::weights::Linear;

/// The trainable factors of one adapted layer.
#[derive(Debug, Clone)]
pub struct LoraFactors {
    pub a: Var, // (r, in)
    pub b: Var, // (out, r)
    pub scale: f64,
}

/// Frozen base weight (a plain tensor, never a `Var`) plus the adapter.
#[derive(Debug, Clone)]
pub struct LoraLinear {
    weight: Tensor,       // (out, in)
    bias: Option<Tensor>, // (out)
    pub adapter: Option<LoraFactors>,
}

/// Seeded inverted dropout on the adapter inputs; one generator per forward.
pub struct Dropout {
    pub p: f64,
    rng: RefCell<StdRng>,
}

impl Dropout {
    pub fn new(p: f64, seed: u64) -> Self {
        Self {
            p,
            rng: RefCell::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// `xs` with each element zeroed with probability `p`, the rest scaled by `1 / (1 - p)`.
    fn apply(&self, xs: &Tensor) -> Result<Tensor> {
        let keep = 1.0 - self.p;
        let mut rng = self.rng.borrow_mut();
        let mask: Vec<f32> = (0..xs.elem_count())
            .map(|_| {
                if rng.random::<f64>() < keep {
                    (1.0 / keep) as f32
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, xs.shape(), xs.device())?.to_dtype(xs.dtype())?;
        Ok((xs * mask)?)
    }
}

impl LoraLinear {
    /// Takes the weights of an inference layer; quantized ones are dequantized (QMatMul has no
    /// backward, and the input gradient must pass through every layer). Costs 4 bytes per weight.
    pub fn frozen(linear: Linear, dtype: DType) -> Result<Self> {
        let (weight, bias) = match linear {
            Linear::Dense(l) => (l.weight().clone(), l.bias().cloned()),
            Linear::Quantized {
                weight,
                bias,
                in_pad,
            } => {
                let padded = dequantized(&weight)?;
                let in_dim = padded.dim(1)? - in_pad;
                (padded.narrow(1, 0, in_dim)?, bias)
            }
            // Training on top of a loaded adapter starts from the merged weight.
            Linear::Adapted { base, lora } => {
                let base = Self::frozen(*base, DType::F32)?;
                ((base.weight + lora.delta_weight()?)?, base.bias)
            }
        };
        Ok(Self {
            weight: weight.to_dtype(dtype)?,
            bias: bias.map(|b| b.to_dtype(dtype)).transpose()?,
            adapter: None,
        })
    }

    /// `(out, in)`.
    pub fn dims(&self) -> Result<(usize, usize)> {
        Ok(self.weight.dims2()?)
    }

    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// Attaches factors after checking their shapes against the base weight.
    pub fn attach(&mut self, factors: LoraFactors, name: &str) -> Result<()> {
        let (out, inp) = self.dims()?;
        let (r, a_in) = factors.a.dims2()?;
        let (b_out, b_r) = factors.b.dims2()?;
        if a_in != inp || b_out != out || b_r != r {
            return Err(InferenceError::format(format!(
                "LoRA target {name}: lora_A {:?} and lora_B {:?} do not fit the weight ({out}, {inp})",
                (r, a_in),
                (b_out, b_r)
            )));
        }
        self.adapter = Some(factors);
        Ok(())
    }

    /// `(…, in) -> (…, out)`.
    pub fn forward(&self, xs: &Tensor, dropout: Option<&Dropout>) -> Result<Tensor> {
        let mut ys = rows_matmul(xs, &self.weight, ops::frozen_matmul)?;
        if let Some(bias) = &self.bias {
            ys = ys.broadcast_add(bias)?;
        }
        let Some(lora) = &self.adapter else {
            return Ok(ys);
        };
        let xs = match dropout {
            Some(d) if d.p > 0.0 => d.apply(xs)?,
            _ => xs.clone(),
        };
        let low = rows_matmul(&xs, lora.a.as_tensor(), trained_matmul)?; // (…, r)
        let update = rows_matmul(&low, lora.b.as_tensor(), trained_matmul)?; // (…, out)
        Ok((ys + (update * lora.scale)?)?)
    }
}

/// `(rows, in) x (out, in)ᵀ` for a weight that trains: both gradients.
fn trained_matmul(xs: &Tensor, weight: &Tensor) -> Result<Tensor> {
    Ok(xs.matmul(&weight.t()?)?)
}

/// `(…, in) x (out, in)ᵀ -> (…, out)` through one 2-D `matmul`.
fn rows_matmul(
    xs: &Tensor,
    weight: &Tensor,
    matmul: fn(&Tensor, &Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    let dims = xs.dims();
    let (lead, inner) = dims.split_at(dims.len() - 1);
    let rows: usize = lead.iter().product();
    let ys = matmul(&xs.reshape((rows, inner[0]))?, weight)?;
    let mut shape = lead.to_vec();
    shape.push(weight.dim(0)?);
    Ok(ys.reshape(shape)?)
}

fn dequantized(weight: &QMatMul) -> Result<Tensor> {
    Ok(match weight {
        QMatMul::QTensor(q) => q.dequantize(&q.device())?,
        QMatMul::Tensor(t) | QMatMul::TensorF16(t) => t.clone(),
    })
}

/// PEFT's init: `lora_A` kaiming-uniform with `a = √5` (bound `1 / √in`), `lora_B` zeros, so an
/// untrained adapter leaves the model unchanged.
pub fn init_factors(
    (out, inp): (usize, usize),
    r: usize,
    rng: &mut StdRng,
    dtype: DType,
    device: &Device,
) -> Result<(Var, Var)> {
    let bound = 1.0 / (inp as f64).sqrt();
    let a: Vec<f32> = (0..r * inp)
        .map(|_| rng.random_range(-bound..bound) as f32)
        .collect();
    let a = Tensor::from_vec(a, (r, inp), device)?.to_dtype(dtype)?;
    let b = Tensor::zeros((out, r), dtype, device)?;
    Ok((Var::from_tensor(&a)?, Var::from_tensor(&b)?))
}
