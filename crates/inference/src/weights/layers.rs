//! The layer types the builder makes: linear layers over dense, quantized or LoRA-adapted weights,
//! and token embeddings.

use std::sync::Arc;

use candle_core::quantized::{QMatMul, QTensor};
use candle_core::{DType, Module, Tensor, D};

use super::gemm::{dense_gemm, prefers_dense_gemm, single_row_kernel};
use crate::error::Result;
use crate::repack;
use crate::unmerged_lora::{adapted_forward, UnmergedLora};

/// A linear layer over dense or quantized weights. `(…, in) -> (…, out)`.
#[derive(Debug, Clone)]
pub enum Linear {
    Dense(candle_nn::Linear),
    /// `in_pad` zero columns end each weight row (see `repack::padded_for_tiles`); the input
    /// gets as many zeros.
    Quantized {
        weight: QMatMul,
        bias: Option<Tensor>,
        in_pad: usize,
    },
    /// A quantized base with an unmerged LoRA adapter.
    Adapted {
        base: Box<Linear>,
        lora: UnmergedLora,
    },
}

/// Token embeddings: a dense table, or quantized rows looked up without dequantizing the table.
#[derive(Debug, Clone)]
pub enum Embedding {
    Dense(Tensor),
    Quantized(Arc<QTensor>),
}

impl Linear {
    /// Number of weight elements (for the parameter count in `ModelInfo`).
    pub fn param_count(&self) -> usize {
        match self {
            Self::Dense(l) => l.weight().elem_count() + l.bias().map_or(0, |b| b.elem_count()),
            Self::Quantized {
                weight,
                bias,
                in_pad,
            } => {
                let w = match weight {
                    QMatMul::QTensor(q) => {
                        let padding = q.shape().dims().first().map_or(0, |rows| rows * in_pad);
                        q.shape().elem_count() - padding
                    }
                    QMatMul::Tensor(t) | QMatMul::TensorF16(t) => t.elem_count(),
                };
                w + bias.as_ref().map_or(0, |b| b.elem_count())
            }
            Self::Adapted { base, lora } => base.param_count() + lora.param_count(),
        }
    }

    /// Bytes of the weights a forward pass reads, in their resident encoding: a Q5_0 matrix
    /// re-encoded to Q8_0 counts its Q8_0 size, a padded one its padding.
    pub fn resident_bytes(&self) -> usize {
        match self {
            Self::Dense(l) => tensor_bytes(l.weight()) + l.bias().map_or(0, tensor_bytes),
            Self::Quantized { weight, bias, .. } => {
                let w = match weight {
                    QMatMul::QTensor(q) => q.storage_size_in_bytes(),
                    QMatMul::Tensor(t) | QMatMul::TensorF16(t) => tensor_bytes(t),
                };
                w + bias.as_ref().map_or(0, tensor_bytes)
            }
            Self::Adapted { base, lora } => base.resident_bytes() + lora.resident_bytes(),
        }
    }
}

/// Bytes of a dense tensor's elements.
pub fn tensor_bytes(t: &Tensor) -> usize {
    t.elem_count() * t.dtype().size_in_bytes()
}

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Dense(l) => l.forward(xs),
            Self::Quantized {
                weight,
                bias,
                in_pad,
            } => {
                // Quantized kernels take f32 activations, and only contiguous ones (a narrowed
                // view such as "every position but the last" is strided).
                let xs32 = match in_pad {
                    0 => xs.to_dtype(DType::F32)?.contiguous()?,
                    &pad => xs.to_dtype(DType::F32)?.pad_with_zeros(D::Minus1, 0, pad)?,
                };
                let ys = match weight {
                    QMatMul::QTensor(q) if prefers_dense_gemm(q, &xs32) => dense_gemm(q, &xs32)?,
                    QMatMul::QTensor(q) => match single_row_kernel(q, &xs32)? {
                        Some(ys) => ys,
                        None => weight.forward(&xs32)?,
                    },
                    _ => weight.forward(&xs32)?,
                }
                .to_dtype(xs.dtype())?;
                match bias {
                    Some(b) => ys.broadcast_add(b),
                    None => Ok(ys),
                }
            }
            Self::Adapted { base, lora } => adapted_forward(base, lora, xs),
        }
    }
}

impl Embedding {
    /// `(b, seq)` u32 ids -> `(b, seq, hidden)` in `dtype`.
    pub fn forward(&self, ids: &Tensor, dtype: DType) -> candle_core::Result<Tensor> {
        let (b, seq) = ids.dims2()?;
        let flat = ids.flatten_all()?;
        let rows = match self {
            Self::Dense(w) => w.index_select(&flat, 0)?,
            Self::Quantized(q) => q.embedding(&flat)?,
        };
        rows.to_dtype(dtype)?.reshape((b, seq, ()))
    }

    /// The tied output projection: a linear layer sharing these weights.
    pub fn as_linear(&self) -> Result<Linear> {
        Ok(match self {
            Self::Dense(w) => Linear::Dense(candle_nn::Linear::new(w.clone(), None)),
            Self::Quantized(q) => Linear::Quantized {
                weight: QMatMul::from_arc(repack::for_cpu_kernels(q.clone())?)?,
                bias: None,
                in_pad: 0,
            },
        })
    }

    pub fn param_count(&self) -> usize {
        match self {
            Self::Dense(w) => w.elem_count(),
            Self::Quantized(q) => q.shape().elem_count(),
        }
    }
}
