//! A small var-builder over two weight sources: HF safetensors (dense tensors) and GGUF (quantized
//! `QTensor`s). Model code names weights the HF way (`model.layers.0.self_attn.q_proj`); the GGUF
//! source maps those names to llama.cpp's (`blk.0.attn_q`).

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::BufReader;
use std::sync::Arc;

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;

use crate::error::{InferenceError, Result};
use crate::gguf_read::read_cpu_tensor;
use crate::lora::merge_one;
use crate::repack;
use crate::text_adapter::TextAdapter;
use crate::unmerged_lora::{adapted_forward, UnmergedLora};

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

/// A linear layer over dense or quantized weights. `(…, in) -> (…, out)`.
#[derive(Debug, Clone)]
pub enum Linear {
    Dense(candle_nn::Linear),
    Quantized {
        weight: QMatMul,
        bias: Option<Tensor>,
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
                    }),
                    None => Ok(Linear::Dense(candle_nn::Linear::new(w, bias))),
                }
            }
            WeightSource::Gguf(g) => {
                let q = g.tensor(&self.path("weight"), &[out_dim, in_dim])?;
                Ok(Linear::Quantized {
                    weight: QMatMul::from_arc(repack::for_cpu_kernels(Arc::new(q))?)?,
                    bias,
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

impl Linear {
    /// Number of weight elements (for the parameter count in `ModelInfo`).
    pub fn param_count(&self) -> usize {
        match self {
            Self::Dense(l) => l.weight().elem_count() + l.bias().map_or(0, |b| b.elem_count()),
            Self::Quantized { weight, bias } => {
                let w = match weight {
                    QMatMul::QTensor(q) => q.shape().elem_count(),
                    QMatMul::Tensor(t) | QMatMul::TensorF16(t) => t.elem_count(),
                };
                w + bias.as_ref().map_or(0, |b| b.elem_count())
            }
            Self::Adapted { base, lora } => base.param_count() + lora.param_count(),
        }
    }
}

impl Module for Linear {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Dense(l) => l.forward(xs),
            Self::Quantized { weight, bias } => {
                // Quantized kernels take f32 activations, and only contiguous ones (a narrowed
                // view such as "every position but the last" is strided).
                let xs32 = xs.to_dtype(DType::F32)?.contiguous()?;
                let ys = match weight {
                    QMatMul::QTensor(q) if prefers_dense_gemm(q, &xs32) => dense_gemm(q, &xs32)?,
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

/// Rows from which a CPU matmul dequantizes the weight and runs a dense f32 GEMM. candle's CPU
/// quantized matmul is one vec-dot per (row, column) with no tiling across rows (except for the
/// Q4_K/Q6_K repacked kernels on rows of 256-multiples); for a prefill the GEMM is ~4x faster
/// even counting the dequantization, which costs about one vec-dot row.
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

fn prefers_dense_gemm(weight: &QTensor, xs: &Tensor) -> bool {
    let rows = xs.elem_count() / xs.dim(candle_core::D::Minus1).unwrap_or(1).max(1);
    let min_rows = if ROW_INDEPENDENT.with(Cell::get) {
        1
    } else {
        DENSE_GEMM_MIN_ROWS
    };
    weight.device().is_cpu()
        && rows >= min_rows
        && weight.shape().elem_count() <= DENSE_GEMM_MAX_ELEMENTS
}

/// `(…, in) x (out, in)^T` through a transient f32 copy of the weight (never cached: a 7B model
/// would need 28 GiB).
fn dense_gemm(weight: &QTensor, xs: &Tensor) -> candle_core::Result<Tensor> {
    let w = weight.dequantize(&weight.device())?; // (out, in)
    let dims = xs.dims();
    let (rows_shape, in_dim) = dims.split_at(dims.len() - 1);
    let rows: usize = rows_shape.iter().product();
    let ys = xs.reshape((rows, in_dim[0]))?.matmul(&w.t()?)?; // (rows, out)
    let mut out_shape = rows_shape.to_vec();
    out_shape.push(w.dim(0)?);
    ys.reshape(out_shape)
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
    use candle_core::quantized::GgmlDType;

    fn ramp(dims: (usize, usize), scale: f32) -> Tensor {
        let n = dims.0 * dims.1;
        let data: Vec<f32> = (0..n)
            .map(|i| ((i * 29 % 83) as f32 - 41.0) * scale)
            .collect();
        Tensor::from_vec(data, dims, &Device::Cpu).unwrap()
    }

    /// From 8 rows the CPU path is an exact f32 GEMM over the dequantized weight; one row goes
    /// through the quantized kernel, which also quantizes the activations (visibly less exact).
    #[test]
    fn prefill_rows_use_the_dequantized_weight_exactly() {
        let q = Arc::new(QTensor::quantize(&ramp((32, 64), 0.01), GgmlDType::Q8_0).unwrap());
        let exact_w = q.dequantize(&Device::Cpu).unwrap();
        let linear = Linear::Quantized {
            weight: QMatMul::from_arc(q).unwrap(),
            bias: None,
        };
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

    /// The quantized kernel refuses strided input; the layer must hand it a contiguous copy.
    #[test]
    fn quantized_layer_accepts_a_narrowed_view() {
        let q = Arc::new(QTensor::quantize(&ramp((32, 64), 0.01), GgmlDType::Q8_0).unwrap());
        let linear = Linear::Quantized {
            weight: QMatMul::from_arc(q).unwrap(),
            bias: None,
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
