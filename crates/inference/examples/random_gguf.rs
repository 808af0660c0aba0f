//! Writes a random-weight Qwen2 GGUF of the shapes in an HF `config.json`, for speed benchmarks of the quantized
//! paths (e.g. the 7B shape in Q4_K on a GPU) where no real file of that size exists.
//!
//! cargo run --release -p opt-native-inference --example random_gguf -- CONFIG_JSON OUT.gguf [q4k|q8_0]
//!
//! Matrices whose rows are a multiple of 256 get the requested type, the others Q8_0 (llama.cpp falls back the
//! same way). To stay fast, each matrix quantizes one random 64-row tile and repeats its blocks down the rows: the
//! kernels' cost does not depend on the values. Norms and biases are F32.

use std::fs::File;
use std::io::BufWriter;

use candle_core::quantized::{ggml_file::qtensor_from_ggml, gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use serde_json::Value as Json;

type BoxError = Box<dyn std::error::Error>;

const TILE_ROWS: usize = 64;

struct Shapes {
    hidden: usize,
    intermediate: usize,
    layers: usize,
    heads: usize,
    kv_heads: usize,
    vocab: usize,
    tied: bool,
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, out, rest @ ..] = args.as_slice() else {
        return Err("usage: random_gguf CONFIG_JSON OUT.gguf [q4k|q8_0]".into());
    };
    let quant = match rest.first().map(String::as_str) {
        None | Some("q4k") => GgmlDType::Q4K,
        Some("q8_0") => GgmlDType::Q8_0,
        Some(other) => return Err(format!("unknown type {other}").into()),
    };
    let cfg: Json = serde_json::from_reader(File::open(config)?)?;
    let s = shapes(&cfg)?;
    let metadata = metadata(&cfg, &s, quant)?;
    let tensors = tensors(&s, quant)?;
    let meta_refs: Vec<(&str, &gguf_file::Value)> =
        metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    gguf_file::write(
        &mut BufWriter::new(File::create(out)?),
        &meta_refs,
        &tensor_refs,
    )?;
    println!("wrote {out}: {} tensors, {quant:?}", tensors.len());
    Ok(())
}

fn shapes(cfg: &Json) -> Result<Shapes, BoxError> {
    let get = |key: &str| -> Result<usize, BoxError> {
        Ok(cfg[key].as_u64().ok_or(format!("config.json: {key}"))? as usize)
    };
    Ok(Shapes {
        hidden: get("hidden_size")?,
        intermediate: get("intermediate_size")?,
        layers: get("num_hidden_layers")?,
        heads: get("num_attention_heads")?,
        kv_heads: get("num_key_value_heads")?,
        vocab: get("vocab_size")?,
        tied: cfg["tie_word_embeddings"].as_bool().unwrap_or(false),
    })
}

fn metadata(
    cfg: &Json,
    s: &Shapes,
    quant: GgmlDType,
) -> Result<Vec<(String, gguf_file::Value)>, BoxError> {
    use gguf_file::Value as V;
    let float = |key: &str, default: f64| cfg[key].as_f64().unwrap_or(default) as f32;
    let context = cfg["max_position_embeddings"].as_u64().unwrap_or(32768) as u32;
    let file_type = if quant == GgmlDType::Q4K { 15 } else { 7 }; // llama.cpp: Q4_K_M, Q8_0
    Ok(vec![
        ("general.architecture".into(), V::String("qwen2".into())),
        ("general.name".into(), V::String("random qwen2".into())),
        ("general.file_type".into(), V::U32(file_type)),
        ("qwen2.embedding_length".into(), V::U32(s.hidden as u32)),
        (
            "qwen2.feed_forward_length".into(),
            V::U32(s.intermediate as u32),
        ),
        ("qwen2.block_count".into(), V::U32(s.layers as u32)),
        ("qwen2.attention.head_count".into(), V::U32(s.heads as u32)),
        (
            "qwen2.attention.head_count_kv".into(),
            V::U32(s.kv_heads as u32),
        ),
        ("qwen2.context_length".into(), V::U32(context)),
        (
            "qwen2.attention.layer_norm_rms_epsilon".into(),
            V::F32(float("rms_norm_eps", 1e-6)),
        ),
        (
            "qwen2.rope.freq_base".into(),
            V::F32(float("rope_theta", 1e6)),
        ),
    ])
}

fn tensors(s: &Shapes, quant: GgmlDType) -> Result<Vec<(String, QTensor)>, BoxError> {
    let (h, kv) = (s.hidden, s.hidden / s.heads * s.kv_heads);
    let mut out = vec![
        ("token_embd.weight".to_string(), matrix(s.vocab, h, quant)?),
        ("output_norm.weight".to_string(), ones(h)?),
    ];
    if !s.tied {
        out.push(("output.weight".into(), matrix(s.vocab, h, quant)?));
    }
    for i in 0..s.layers {
        let name = |short: &str| format!("blk.{i}.{short}");
        out.push((name("attn_norm.weight"), ones(h)?));
        out.push((name("ffn_norm.weight"), ones(h)?));
        for (short, rows) in [("attn_q", h), ("attn_k", kv), ("attn_v", kv)] {
            out.push((name(&format!("{short}.weight")), matrix(rows, h, quant)?));
            out.push((name(&format!("{short}.bias")), ones(rows)?));
        }
        out.push((name("attn_output.weight"), matrix(h, h, quant)?));
        out.push((name("ffn_gate.weight"), matrix(s.intermediate, h, quant)?));
        out.push((name("ffn_up.weight"), matrix(s.intermediate, h, quant)?));
        out.push((name("ffn_down.weight"), matrix(h, s.intermediate, quant)?));
    }
    Ok(out)
}

fn ones(len: usize) -> candle_core::Result<QTensor> {
    QTensor::quantize(
        &Tensor::ones(len, candle_core::DType::F32, &Device::Cpu)?,
        GgmlDType::F32,
    )
}

/// A `(rows, cols)` quantized matrix: one random tile quantized, its blocks repeated down the rows.
fn matrix(rows: usize, cols: usize, quant: GgmlDType) -> candle_core::Result<QTensor> {
    let dtype = if cols.is_multiple_of(quant.block_size()) {
        quant
    } else {
        GgmlDType::Q8_0
    };
    let tile_rows = rows.min(TILE_ROWS);
    let tile = Tensor::randn(0f32, 0.02, (tile_rows, cols), &Device::Cpu)?;
    let tile = QTensor::quantize(&tile, dtype)?.data()?.into_owned();
    let row_bytes = tile.len() / tile_rows;
    let mut bytes = Vec::with_capacity(rows * row_bytes);
    while bytes.len() < rows * row_bytes {
        let missing = rows * row_bytes - bytes.len();
        bytes.extend_from_slice(&tile[..missing.min(tile.len())]);
    }
    qtensor_from_ggml(dtype, &bytes, vec![rows, cols], &Device::Cpu)
}
