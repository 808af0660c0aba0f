//! Finds and opens weights: a `.gguf` file, or an HF folder (config.json + model.safetensors or a
//! sharded index). Every malformed input becomes `E_MODEL_FORMAT`; panics inside candle's readers
//! are caught as a last line of defence.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file;
use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use serde::{Deserialize, Serialize};

use crate::config::{DecoderConfig, HfQwen2Config};
use crate::error::{candle_message, InferenceError, Result};
use crate::weights::{GgufSource, WeightSource};

/// Weights opened and a validated config, ready for `Qwen2Decoder::new`.
pub struct OpenedWeights {
    pub config: DecoderConfig,
    pub source: WeightSource,
    pub format: WeightFormat,
    pub quantization: String,
    pub name: Option<String>,
    /// `tokenizer.json` next to the weights, if there is one.
    pub tokenizer_beside: Option<PathBuf>,
}

/// On-disk format of the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightFormat {
    Gguf,
    Safetensors,
}

/// Runs a loader step, turning a panic in a third-party reader into `E_MODEL_FORMAT`.
pub fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(InferenceError::format(format!(
            "{what}: reader panicked on malformed input"
        )))
    })
}

/// Opens `path` (a `.gguf` file or an HF folder) on `device`.
pub fn open_weights(path: &Path, device: &Device, dtype: DType) -> Result<OpenedWeights> {
    if !path.exists() {
        return Err(InferenceError::ModelNotFound {
            path: path.to_path_buf(),
            reason: "no such file or folder".into(),
        });
    }
    if path.is_dir() {
        guarded("safetensors", || open_hf_folder(path, device, dtype))
    } else {
        guarded("gguf", || open_gguf(path, device))
    }
}

fn open_gguf(path: &Path, device: &Device) -> Result<OpenedWeights> {
    let file = File::open(path).map_err(|e| InferenceError::ModelNotFound {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 4];
    reader
        .read_exact(&mut magic)
        .map_err(|_| InferenceError::format("file too short for a GGUF header"))?;
    if &magic != b"GGUF" {
        return Err(InferenceError::format(format!(
            "{}: not a GGUF file (magic {magic:?})",
            path.display()
        )));
    }
    std::io::Seek::rewind(&mut reader).map_err(|e| InferenceError::format(e.to_string()))?;
    let content = gguf_file::Content::read(&mut reader)
        .map_err(|e| InferenceError::format(format!("GGUF header: {}", candle_message(&e))))?;
    if content.tensor_data_offset == 0 {
        return Err(InferenceError::format("GGUF header: bad alignment"));
    }
    let file_len = std::fs::metadata(path).map_or(0, |m| m.len());
    check_tensor_extents(&content, file_len)?;
    let embd = content
        .tensor_infos
        .get("token_embd.weight")
        .ok_or_else(|| InferenceError::format("GGUF tensor 'token_embd.weight' missing"))?;
    let vocab = embd.shape.dims().first().copied().unwrap_or(0);
    let tied = !content.tensor_infos.contains_key("output.weight");
    let config = DecoderConfig::from_gguf(&content.metadata, vocab, tied)?;
    let quantization = gguf_quantization(&content);
    let name = content
        .metadata
        .get("general.name")
        .and_then(|v| v.to_string().ok())
        .cloned();
    let source = GgufSource {
        content,
        reader: RefCell::new(reader),
        device: device.clone(),
    };
    Ok(OpenedWeights {
        config,
        source: WeightSource::Gguf(source),
        format: WeightFormat::Gguf,
        quantization,
        name,
        tokenizer_beside: beside(path, "tokenizer.json"),
    })
}

/// Every tensor's bytes must lie inside the file: a truncated file or an offset past the end is
/// refused at open, before any tensor is read.
fn check_tensor_extents(content: &gguf_file::Content, file_len: u64) -> Result<()> {
    for (name, info) in &content.tensor_infos {
        // Checked: corrupt dimensions can overflow a plain product into a small number.
        let elements = info
            .shape
            .dims()
            .iter()
            .try_fold(1u64, |total, &dim| total.checked_mul(dim as u64));
        let block = info.ggml_dtype.block_size() as u64;
        let Some(elements) = elements.filter(|n| block > 0 && n % block == 0) else {
            return Err(InferenceError::format(format!(
                "GGUF tensor '{name}': shape {:?} does not fill whole {:?} blocks",
                info.shape.dims(),
                info.ggml_dtype
            )));
        };
        let end = (elements / block)
            .checked_mul(info.ggml_dtype.type_size() as u64)
            .and_then(|bytes| bytes.checked_add(info.offset))
            .and_then(|end| end.checked_add(content.tensor_data_offset));
        if end.is_none_or(|end| end > file_len) {
            return Err(InferenceError::format(format!(
                "GGUF tensor '{name}' extends past the end of the file ({file_len} bytes)"
            )));
        }
    }
    Ok(())
}

/// llama.cpp's `general.file_type` name (e.g. `Q4_K_M`), else the dtype of the first FFN matrix.
fn gguf_quantization(content: &gguf_file::Content) -> String {
    const NAMES: [(u32, &str); 16] = [
        (0, "F32"),
        (1, "F16"),
        (2, "Q4_0"),
        (3, "Q4_1"),
        (7, "Q8_0"),
        (8, "Q5_0"),
        (9, "Q5_1"),
        (10, "Q2_K"),
        (11, "Q3_K_S"),
        (12, "Q3_K_M"),
        (13, "Q3_K_L"),
        (14, "Q4_K_S"),
        (15, "Q4_K_M"),
        (16, "Q5_K_S"),
        (17, "Q5_K_M"),
        (18, "Q6_K"),
    ];
    let file_type = content
        .metadata
        .get("general.file_type")
        .and_then(|v| v.to_u32().ok());
    if let Some(name) = file_type.and_then(|t| NAMES.iter().find(|(id, _)| *id == t)) {
        return name.1.to_string();
    }
    content
        .tensor_infos
        .get("blk.0.ffn_down.weight")
        .map_or_else(
            || "unknown".to_string(),
            |t| format!("{:?}", t.ggml_dtype).to_uppercase(),
        )
}

fn open_hf_folder(dir: &Path, device: &Device, dtype: DType) -> Result<OpenedWeights> {
    let config = HfQwen2Config::from_json(&read_config(dir)?)?.to_decoder_config()?;
    let files = safetensors_files(dir)?;
    Ok(OpenedWeights {
        config,
        source: WeightSource::Dense(mmap_safetensors(&files, dtype, device)?),
        format: WeightFormat::Safetensors,
        quantization: "none".to_string(),
        name: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
        tokenizer_beside: beside(&dir.join("config.json"), "tokenizer.json"),
    })
}

/// The text of an HF folder's `config.json`; `E_MODEL_NOT_FOUND` when it cannot be read.
pub(crate) fn read_config(dir: &Path) -> Result<String> {
    let config_path = dir.join("config.json");
    std::fs::read_to_string(&config_path).map_err(|e| InferenceError::ModelNotFound {
        path: config_path,
        reason: e.to_string(),
    })
}

/// Memory-maps the safetensors `files` (from [`safetensors_files`]) as one var-builder.
pub(crate) fn mmap_safetensors(
    files: &[PathBuf],
    dtype: DType,
    device: &Device,
) -> Result<VarBuilder<'static>> {
    // SAFETY: the files are memory-mapped read-only; like every mmap loader we assume nobody
    // truncates them while the model is loaded.
    unsafe { VarBuilder::from_mmaped_safetensors(files, dtype, device) }
        .map_err(|e| InferenceError::format(format!("safetensors: {e}")))
}

#[derive(Deserialize)]
struct ShardIndex {
    weight_map: std::collections::BTreeMap<String, String>,
}

/// `model.safetensors`, or the shards listed by `model.safetensors.index.json`. A shard must be a
/// file of `dir` itself: a name with a path separator (`../x.safetensors`) is refused.
pub(crate) fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let single = dir.join("model.safetensors");
    if single.is_file() {
        return Ok(vec![single]);
    }
    let index_path = dir.join("model.safetensors.index.json");
    let Ok(text) = std::fs::read_to_string(&index_path) else {
        return Err(InferenceError::ModelNotFound {
            path: dir.to_path_buf(),
            reason: "no model.safetensors or model.safetensors.index.json".into(),
        });
    };
    let index: ShardIndex = serde_json::from_str(&text)
        .map_err(|e| InferenceError::format(format!("{}: {e}", index_path.display())))?;
    let mut shards: Vec<String> = index.weight_map.into_values().collect();
    shards.sort();
    shards.dedup();
    shards
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            if name.contains(['/', '\\']) || !path.is_file() {
                return Err(InferenceError::ModelNotFound {
                    path,
                    reason: "shard listed in the index is missing".into(),
                });
            }
            Ok(path)
        })
        .collect()
}

fn beside(path: &Path, name: &str) -> Option<PathBuf> {
    let candidate = path.parent()?.join(name);
    candidate.is_file().then_some(candidate)
}
