//! A tiny Qwen2 with deterministic pseudo-random weights, built in memory for the LoRA tests.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use opt_native_inference::train::{LoraSpec, Target, TrainModel};
use opt_native_inference::weights::{WeightSource, Weights};
use opt_native_inference::{DecoderConfig, Qwen2Decoder};

pub fn tiny_config(tied: bool) -> DecoderConfig {
    DecoderConfig {
        vocab_size: 40,
        hidden_size: 16,
        intermediate_size: 24,
        num_layers: 2,
        num_heads: 4,
        num_kv_heads: 2,
        head_dim: 4,
        max_position_embeddings: 64,
        rms_norm_eps: 1e-6,
        rope_theta: 10000.0,
        tie_word_embeddings: tied,
    }
    .validated()
    .unwrap()
}

/// Values in [-scale, scale) from a hash of (seed, index): the same on every machine.
pub fn pseudo_random(shape: &[usize], seed: u64, scale: f64) -> Tensor {
    let n: usize = shape.iter().product();
    let data: Vec<f64> = (0..n as u64)
        .map(|i| {
            let mut x = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i).wrapping_add(0x632B_E59B);
            x ^= x >> 33;
            x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
            x ^= x >> 33;
            ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale
        })
        .collect();
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

/// HF-named f64 tensors of a random decoder for `cfg`.
pub fn random_tensors(cfg: &DecoderConfig, seed: u64) -> HashMap<String, Tensor> {
    let (h, i, v) = (cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size);
    let (q, kv) = (
        cfg.num_heads * cfg.head_dim,
        cfg.num_kv_heads * cfg.head_dim,
    );
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        ("model.embed_tokens.weight".into(), vec![v, h]),
        ("model.norm.weight".into(), vec![h]),
    ];
    if !cfg.tie_word_embeddings {
        shapes.push(("lm_head.weight".into(), vec![v, h]));
    }
    for l in 0..cfg.num_layers {
        let p = |name: &str| format!("model.layers.{l}.{name}");
        shapes.extend([
            (p("input_layernorm.weight"), vec![h]),
            (p("post_attention_layernorm.weight"), vec![h]),
            (p("self_attn.q_proj.weight"), vec![q, h]),
            (p("self_attn.q_proj.bias"), vec![q]),
            (p("self_attn.k_proj.weight"), vec![kv, h]),
            (p("self_attn.k_proj.bias"), vec![kv]),
            (p("self_attn.v_proj.weight"), vec![kv, h]),
            (p("self_attn.v_proj.bias"), vec![kv]),
            (p("self_attn.o_proj.weight"), vec![h, q]),
            (p("mlp.gate_proj.weight"), vec![i, h]),
            (p("mlp.up_proj.weight"), vec![i, h]),
            (p("mlp.down_proj.weight"), vec![h, i]),
        ]);
    }
    shapes
        .into_iter()
        .enumerate()
        .map(|(k, (name, shape))| {
            let t = if name.contains("norm") {
                (pseudo_random(&shape, seed + k as u64, 0.2) + 1.0).unwrap()
            } else {
                pseudo_random(&shape, seed + k as u64, 0.5)
            };
            (name, t)
        })
        .collect()
}

pub fn source(tensors: HashMap<String, Tensor>, dtype: DType) -> WeightSource {
    WeightSource::Dense(VarBuilder::from_tensors(tensors, dtype, &Device::Cpu))
}

pub fn train_model(
    source: &WeightSource,
    cfg: &DecoderConfig,
    spec: LoraSpec,
    dtype: DType,
) -> TrainModel {
    TrainModel::new(cfg, &Weights::new(source, dtype), spec, dtype, &Device::Cpu).unwrap()
}

pub fn decoder(source: &WeightSource, cfg: &DecoderConfig, dtype: DType) -> Qwen2Decoder {
    Qwen2Decoder::new(cfg, &Weights::new(source, dtype), dtype, &Device::Cpu).unwrap()
}

/// Every target, rank 2, alpha 3 (scale 1.5).
pub fn all_targets() -> LoraSpec {
    LoraSpec {
        r: 2,
        alpha: 3.0,
        targets: Target::ALL.to_vec(),
        seed: 7,
        ..Default::default()
    }
}

/// Gives every `lora_B` (zeros after init) seeded non-zero values.
pub fn randomize_b(model: &TrainModel, scale: f64) {
    for (k, named) in model.factors().iter().enumerate() {
        let b = &named.factors.b;
        let values = pseudo_random(b.dims(), 1000 + k as u64, scale)
            .to_dtype(b.dtype())
            .unwrap();
        b.set(&values).unwrap();
    }
}
