//! Native side of the Qwen2-Audio dev-set bench (twin of scripts/bench_qwen2_audio_gpu.py): N clips of 1-10 s,
//! label scoring with the encoder cache warm (what OPRO pays per candidate prompt after the first) vs greedy
//! generation of 8 tokens one clip at a time with a cold encoder, plus time to first token on a 30 s clip.
//! Prompts are fixed ids (no tokenizer needed), the same lengths as the Python script's.
//!
//! cargo run --release -p opt-native-inference --example bench_qwen2_audio -- MODEL_DIR [CLIPS] [cpu|cuda] [f32|bf16]
//! (GPU: add `--features cuda`; MODEL_DIR from `bench_qwen2_audio_gpu.py --save-model`, or the tiny fixture on CPU)

use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use opt_native_inference::qwen2_audio::{expand_audio_tokens, Qwen2AudioModel};

const HEAD: &[u32] = &[
    151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 14755, 220,
    16, 25, 220,
];
const QUESTION_LEN: usize = 27;
const MAX_NEW_TOKENS: usize = 8;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(
        args.get(1)
            .ok_or("usage: bench_qwen2_audio MODEL_DIR [CLIPS] [cpu|cuda] [f32|bf16]")?,
    );
    let clips: usize = args.get(2).map_or(Ok(200), |s| s.parse())?;
    let device = match args.get(3).map(String::as_str) {
        Some("cuda") => Device::new_cuda(0)?,
        _ => Device::Cpu,
    };
    let dtype = match args.get(4).map(String::as_str) {
        Some("bf16") => DType::BF16,
        _ => DType::F32,
    };
    let start = Instant::now();
    let mut model = Qwen2AudioModel::load(&dir, None, &device, dtype)?;
    println!("load: {:.2}s", start.elapsed().as_secs_f64());
    let vocab = model.decoder().config().vocab_size as u32;
    // Token ids inside the vocabulary (the tiny fixture has 512); only the lengths matter for speed.
    let ids = |list: &[u32]| list.iter().map(|&t| t % vocab).collect::<Vec<u32>>();
    let audio_token = model.audio_token_id();
    let mut prompt = ids(HEAD);
    prompt.push(audio_token);
    prompt.extend(ids(&[198; QUESTION_LEN]));
    let labels = vec![ids(&[67922, 2726]), ids(&[20575, 12, 67922, 2726])];
    let waves: Vec<Vec<f32>> = (0..clips)
        .map(|i| synthetic_wave(1.0 + 9.0 * (i as f32 / clips.max(1) as f32), i as u32))
        .collect();

    // Cold: encoder + greedy generation per clip (the seed's way); fills the cache as a side effect.
    let start = Instant::now();
    for wave in &waves {
        let audio = model.audio_embeddings(wave)?;
        let expanded = expand_audio_tokens(&prompt, audio_token, &[audio.dim(0)?])?;
        model.generate_greedy(&expanded, &[audio], MAX_NEW_TOKENS, &[])?;
    }
    synchronize(&device)?;
    let generate_s = start.elapsed().as_secs_f64();

    // Warm: label scoring, encoder outputs from the cache.
    let start = Instant::now();
    for wave in &waves {
        let audio = model.audio_embeddings(wave)?;
        let expanded = expand_audio_tokens(&prompt, audio_token, &[audio.dim(0)?])?;
        model.score_labels(&expanded, &[audio], &labels)?;
    }
    synchronize(&device)?;
    let score_s = start.elapsed().as_secs_f64();

    let long = synthetic_wave(30.0, 999_999);
    let start = Instant::now();
    let audio = model.audio_embeddings(&long)?;
    let expanded = expand_audio_tokens(&prompt, audio_token, &[audio.dim(0)?])?;
    model.generate_greedy(&expanded, &[audio], 1, &[])?;
    synchronize(&device)?;
    let ttft_s = start.elapsed().as_secs_f64();

    println!(
        "{{\"clips\": {clips}, \"generate_cold_clips_per_s\": {:.2}, \"score_cached_clips_per_s\": {:.2}, \
         \"ratio\": {:.1}, \"ttft_30s_clip_ms\": {:.1}, \"cache\": {:?}}}",
        clips as f64 / generate_s,
        clips as f64 / score_s,
        generate_s / score_s,
        ttft_s * 1000.0,
        model.cache_stats()
    );
    Ok(())
}

/// Deterministic noise-like clip (a small LCG): distinct per seed, so every clip has its own cache entry.
fn synthetic_wave(seconds: f32, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..(seconds * 16_000.0) as usize)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 * 0.2 - 0.1
        })
        .collect()
}

/// GPU timings need the queue drained: a tiny read-back forces it.
fn synchronize(device: &Device) -> candle_core::Result<()> {
    Tensor::zeros(1, DType::F32, device)?
        .to_vec1::<f32>()
        .map(|_| ())
}
