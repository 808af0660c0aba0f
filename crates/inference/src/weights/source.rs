//! The weight sources (HF safetensors, GGUF) and the [`Weights`] builder that reads layers from them.

use std::cell::RefCell;
use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::layers::{Embedding, Linear};
use crate::error::{InferenceError, Result};
use crate::gguf_read::read_cpu_tensor;
use crate::lora::merge_one;
use crate::repack;
use crate::text_adapter::TextAdapter;
use crate::unmerged_lora::UnmergedLora;

/// Where the weights come from; built by the loader.
pub enum WeightSource {
    Dense(VarBuilder<'static>),
    Gguf(GgufSource),
}

/// An open GGUF file and its parsed header.
pub struct GgufSource {
    pub content: gguf_file::Content,
    pub reader: RefCell<BufReader<File>>,
    pub device: Device,
}

/// A prefix into a [`WeightSource`], like candle's `VarBuilder::pp`.
#[derive(Clone)]
pub struct Weights<'a> {
    source: &'a WeightSource,
    prefix: String,
    dtype: DType,
    /// Dense projection matrices are quantized to this type as they are read.
    quantize_dense: Option<GgmlDType>,
    /// A LoRA adapter for the projections: merged into dense weights, kept beside quantized ones.
    adapter: Option<&'a TextAdapter>,
}

/// The 4-bit type of `load_in_4bit`: its 32-weight blocks divide every Qwen2 row length (Q4_K's
/// 256 does not divide the 0.5B model's 896), and candle has CPU SIMD and CUDA kernels for it.
pub const LOAD_IN_4BIT_TYPE: GgmlDType = GgmlDType::Q4_0;

impl<'a> Weights<'a> {
    /// Root builder; `dtype` is the activation dtype of dense weights and all vectors.
    pub fn new(source: &'a WeightSource, dtype: DType) -> Self {
        Self {
            source,
            prefix: String::new(),
            dtype,
            quantize_dense: None,
            adapter: None,
        }
    }

    /// The same builder, quantizing dense projection matrices to `dtype` at load (no effect on
    /// GGUF weights, which are quantized already).
    pub fn quantizing_dense(self, dtype: Option<GgmlDType>) -> Self {
        Self {
            quantize_dense: dtype,
            ..self
        }
    }

    /// The same builder, applying `adapter` to the projections it targets (checked against the
    /// config beforehand by [`TextAdapter::load`]).
    pub fn with_adapter(self, adapter: Option<&'a TextAdapter>) -> Self {
        Self { adapter, ..self }
    }

    /// Child builder: `pp("layers").pp(3)` names `layers.3.*`.
    pub fn pp(&self, name: impl ToString) -> Self {
        let name = name.to_string();
        let prefix = if self.prefix.is_empty() {
            name
        } else {
            format!("{}.{name}", self.prefix)
        };
        Self {
            source: self.source,
            prefix,
            dtype: self.dtype,
            quantize_dense: self.quantize_dense,
            adapter: self.adapter,
        }
    }

    fn path(&self, leaf: &str) -> String {
        format!("{}.{leaf}", self.prefix)
    }

    /// Whether `<prefix>.<leaf>` exists (e.g. an untied `lm_head.weight`).
    pub fn contains(&self, leaf: &str) -> bool {
        match self.source {
            WeightSource::Dense(vb) => vb.contains_tensor(&self.path(leaf)),
            WeightSource::Gguf(g) => {
                gguf_name(&self.path(leaf)).is_some_and(|n| g.content.tensor_infos.contains_key(&n))
            }
        }
    }

    /// A 1-D vector (norm weight, bias) of length `len`, in the activation dtype.
    pub fn vector(&self, leaf: &str, len: usize) -> Result<Tensor> {
        match self.source {
            WeightSource::Dense(vb) => Ok(vb.get_with_hints_dtype(
                len,
                &self.path(leaf),
                Default::default(),
                self.dtype,
            )?),
            WeightSource::Gguf(g) => {
                let q = g.tensor(&self.path(leaf), &[len])?;
                Ok(q.dequantize(&g.device)?.to_dtype(self.dtype)?)
            }
        }
    }

    /// `weight` of shape (out, in) plus an optional `bias` (out), with the adapter's update for
    /// this weight: merged into a dense weight, beside a quantized one.
    pub fn linear(&self, in_dim: usize, out_dim: usize, bias: bool) -> Result<Linear> {
        let name = self.path("weight");
        let delta = self.adapter.and_then(|a| a.delta(&name));
        let Some((delta, scale)) = delta else {
            return self.base_linear(in_dim, out_dim, bias);
        };
        match self.base_linear(in_dim, out_dim, bias)? {
            Linear::Dense(l) => {
                let merged = merge_one(l.weight(), delta, scale)
                    .map_err(|e| InferenceError::format(format!("LoRA target {name}: {e}")))?;
                Ok(Linear::Dense(candle_nn::Linear::new(
                    merged,
                    l.bias().cloned(),
                )))
            }
            base => {
                let device = self.device();
                let factor = |t: &Tensor| t.to_device(&device)?.to_dtype(DType::F32);
                let lora = UnmergedLora {
                    a: factor(&delta.a)?,
                    b: factor(&delta.b)?,
                    scale,
                };
                Ok(Linear::Adapted {
                    base: Box::new(base),
                    lora,
                })
            }
        }
    }

    fn device(&self) -> Device {
        match self.source {
            WeightSource::Dense(vb) => vb.device().clone(),
            WeightSource::Gguf(g) => g.device.clone(),
        }
    }

    fn base_linear(&self, in_dim: usize, out_dim: usize, bias: bool) -> Result<Linear> {
        let bias = if bias {
            Some(self.vector("bias", out_dim)?)
        } else {
            None
        };
        match self.source {
            WeightSource::Dense(vb) => {
                // Quantized from f32, so the 4-bit blocks do not carry a bf16 rounding as well.
                let read_dtype = self.quantize_dense.map_or(self.dtype, |_| DType::F32);
                let w = vb.get_with_hints_dtype(
                    (out_dim, in_dim),
                    &self.path("weight"),
                    Default::default(),
                    read_dtype,
                )?;
                match self.quantize_dense {
                    Some(qtype) => Ok(Linear::Quantized {
                        weight: QMatMul::from_arc(Arc::new(QTensor::quantize(&w, qtype)?))?,
                        bias,
                        in_pad: 0,
                    }),
                    None => Ok(Linear::Dense(candle_nn::Linear::new(w, bias))),
                }
            }
            WeightSource::Gguf(g) => {
                let q = g.tensor(&self.path("weight"), &[out_dim, in_dim])?;
                let (weight, in_pad) =
                    repack::padded_for_tiles(repack::for_cpu_kernels(Arc::new(q))?)?;
                Ok(Linear::Quantized {
                    weight: QMatMul::from_arc(weight)?,
                    bias,
                    in_pad,
                })
            }
        }
    }

    /// Embedding table `weight` of shape (vocab, hidden).
    pub fn embedding(&self, vocab: usize, hidden: usize) -> Result<Embedding> {
        match self.source {
            WeightSource::Dense(vb) => {
                let w = vb.get_with_hints_dtype(
                    (vocab, hidden),
                    &self.path("weight"),
                    Default::default(),
                    self.dtype,
                )?;
                Ok(Embedding::Dense(w))
            }
            WeightSource::Gguf(g) => Ok(Embedding::Quantized(Arc::new(
                g.tensor(&self.path("weight"), &[vocab, hidden])?,
            ))),
        }
    }
}

impl GgufSource {
    /// Reads one tensor after checking its shape, so a corrupt header cannot ask for huge buffers.
    fn tensor(&self, hf_name: &str, dims: &[usize]) -> Result<QTensor> {
        let name = gguf_name(hf_name).ok_or_else(|| {
            InferenceError::format(format!("no GGUF name for weight '{hf_name}'"))
        })?;
        let info = self
            .content
            .tensor_infos
            .get(&name)
            .ok_or_else(|| InferenceError::format(format!("GGUF tensor '{name}' missing")))?;
        if info.shape.dims() != dims {
            return Err(InferenceError::format(format!(
                "GGUF tensor '{name}' has shape {:?}, expected {dims:?}",
                info.shape.dims()
            )));
        }
        let mut reader = self.reader.borrow_mut();
        let tensor = if self.device.is_cpu() {
            read_cpu_tensor(&mut *reader, info, self.content.tensor_data_offset)
        } else {
            // A transient host copy on its way to the device memory.
            self.content
                .tensor(&mut *reader, &name, &self.device)
                .map_err(Into::into)
        };
        tensor.map_err(|e| InferenceError::format(format!("GGUF tensor '{name}': {e}")))
    }
}

/// HF weight name -> llama.cpp GGUF name for the Qwen2 tensors.
pub fn gguf_name(hf: &str) -> Option<String> {
    match hf {
        "model.embed_tokens.weight" => return Some("token_embd.weight".into()),
        "model.norm.weight" => return Some("output_norm.weight".into()),
        "lm_head.weight" => return Some("output.weight".into()),
        _ => {}
    }
    let rest = hf.strip_prefix("model.layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    let (module, kind) = rest.rsplit_once('.')?;
    let short = match module {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        _ => return None,
    };
    Some(format!("blk.{layer}.{short}.{kind}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hf_names_map_to_llama_cpp_names() {
        assert_eq!(
            gguf_name("model.layers.12.self_attn.k_proj.bias").as_deref(),
            Some("blk.12.attn_k.bias")
        );
        assert_eq!(
            gguf_name("model.layers.0.mlp.down_proj.weight").as_deref(),
            Some("blk.0.ffn_down.weight")
        );
        assert_eq!(
            gguf_name("model.embed_tokens.weight").as_deref(),
            Some("token_embd.weight")
        );
        assert_eq!(gguf_name("model.layers.0.unknown.weight"), None);
    }
}
