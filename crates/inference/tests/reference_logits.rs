//! Logits against HF transformers (float32, eager attention) on the tiny random Qwen2 fixtures.

mod common;

use candle_core::{Device, Tensor};
use common::*;
use opt_native_inference::{BatchLayout, DecoderInput, LoadOptions, TextModel};

const F32_TOL: f32 = 1e-4;

/// Prefill logits `(seq, vocab)` of `ids` on a fresh cache, then greedy-forced decode steps.
fn prefill_and_decode(model: &TextModel, prompt: &[u32], forced: &[u32]) -> (Tensor, Vec<Tensor>) {
    let dec = model.decoder();
    let mut cache = dec.new_cache();
    let input = Tensor::new(prompt, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let hidden = dec
        .forward_hidden(
            DecoderInput::Tokens(&input),
            &BatchLayout::unpadded(1),
            &mut cache,
        )
        .unwrap();
    let prefill = dec.logits(&hidden).unwrap().squeeze(0).unwrap();
    let steps = forced
        .iter()
        .map(|&t| {
            let step = Tensor::new(&[[t]], &Device::Cpu).unwrap();
            let logits = dec
                .forward_last(
                    DecoderInput::Tokens(&step),
                    &BatchLayout::unpadded(1),
                    &mut cache,
                )
                .unwrap();
            logits.squeeze(0).unwrap()
        })
        .collect();
    (prefill, steps)
}

fn check_prefill_and_decode(model: &TextModel, tol: f32) -> f32 {
    let r = reference("tiny-qwen2");
    let prompt = ids(&r["prompt_ids"]);
    assert_eq!(
        model.tokenize(PROMPT).unwrap(),
        prompt,
        "tokenizer matches HF tokenizers"
    );
    let forced = ids(&r["decode_tokens"]);
    let (prefill, steps) = prefill_and_decode(model, &prompt, &forced);
    let mut worst = max_abs_diff(&prefill, &r["prefill_logits"]);
    for (i, step) in steps.iter().enumerate() {
        let want = r["decode_logits"].get(i).unwrap();
        worst = worst.max(max_abs_diff(step, &want));
        if i + 1 < forced.len() {
            // The reference tokens are the greedy choices: our argmax must agree.
            assert_eq!(
                step.argmax(0).unwrap().to_scalar::<u32>().unwrap(),
                forced[i + 1],
                "step {i}"
            );
        }
    }
    assert!(worst <= tol, "max |Δlogit| = {worst} > {tol}");
    worst
}

#[test]
fn safetensors_prefill_and_ten_cached_decode_steps_match_transformers() {
    check_prefill_and_decode(&load("tiny-qwen2"), F32_TOL);
}

#[test]
fn f32_gguf_matches_transformers() {
    check_prefill_and_decode(&load("tiny-qwen2.f32.gguf"), F32_TOL);
}

#[test]
fn q8_0_gguf_stays_close_to_transformers() {
    let model = load("tiny-qwen2.q8_0.gguf");
    assert_eq!(model.info().quantization, "Q8_0");
    // Q8_0 weights and Q8 activations on random weights of std 0.15 (logits up to ~±8): errors of
    // a few tenths, while every greedy step still picks the reference token (checked inside).
    let worst = check_prefill_and_decode(&model, 0.5);
    assert!(
        worst > 1e-4,
        "Q8_0 path must actually be quantized (Δ = {worst})"
    );
}

#[test]
fn untied_lm_head_from_f16_safetensors_matches_transformers() {
    let model = load("tiny-qwen2-untied");
    let r = reference("tiny-qwen2-untied");
    let (prefill, _) = prefill_and_decode(&model, &ids(&r["prompt_ids"]), &[]);
    let worst = max_abs_diff(&prefill, &r["prefill_logits"]);
    assert!(worst <= F32_TOL, "max |Δlogit| = {worst}");
    let info = model.info();
    // 1 layer, hidden 64, intermediate 96, vocab 260, untied head.
    let per_layer = 64 * 64 + 64 + 2 * (64 * 32 + 32) + 64 * 64 + 3 * 64 * 96 + 2 * 64;
    assert_eq!(info.parameters, (2 * 260 * 64 + per_layer + 64) as u64);
    // A decode step reads every layer, the final norm and the head, in f32; not the embedding table.
    assert_eq!(
        info.decode_read_bytes,
        (4 * (per_layer + 64 + 260 * 64)) as u64
    );
}

#[test]
fn decode_read_bytes_count_q8_0_blocks_and_the_tied_head() {
    let info = load("tiny-qwen2.q8_0.gguf").info();
    // 2 layers of hidden 64, kv 32, intermediate 96. Matrices: 34 bytes per 32 weights (Q8_0);
    // biases and norms: f32. The tied head reads the Q8_0 embedding table.
    let q8 = |n: usize| n / 32 * 34;
    let matrices = q8(64 * 64) + 2 * q8(64 * 32) + q8(64 * 64) + 3 * q8(64 * 96);
    let per_layer = matrices + 4 * (64 + 2 * 32) + 4 * 2 * 64;
    assert_eq!(
        info.decode_read_bytes,
        (2 * per_layer + 4 * 64 + q8(260 * 64)) as u64
    );
}

/// Left-padded batch logits `(b, width, vocab)`.
fn batch_logits(model: &TextModel, rows: &[Vec<u32>]) -> (Tensor, BatchLayout) {
    let dec = model.decoder();
    let layout = BatchLayout::for_lengths(&rows.iter().map(Vec::len).collect::<Vec<_>>());
    let width = rows.iter().map(Vec::len).max().unwrap();
    let flat: Vec<u32> = rows
        .iter()
        .zip(&layout.left_pad)
        .flat_map(|(r, &pad)| std::iter::repeat_n(0, pad).chain(r.iter().copied()))
        .collect();
    let input = Tensor::from_vec(flat, (rows.len(), width), &Device::Cpu).unwrap();
    let mut cache = dec.new_cache();
    let hidden = dec
        .forward_hidden(DecoderInput::Tokens(&input), &layout, &mut cache)
        .unwrap();
    (dec.logits(&hidden).unwrap(), layout)
}

#[test]
fn left_padded_batch_matches_transformers_and_single_rows() {
    let model = load("tiny-qwen2");
    let r = reference("tiny-qwen2");
    let rows: Vec<Vec<u32>> = BATCH_PROMPTS
        .iter()
        .map(|p| model.tokenize(p).unwrap())
        .collect();
    let (logits, layout) = batch_logits(&model, &rows);
    let mask: Vec<Vec<i64>> = r["batch_mask"]
        .to_dtype(candle_core::DType::I64)
        .unwrap()
        .to_vec2()
        .unwrap();
    for (b, row) in rows.iter().enumerate() {
        let pad = layout.left_pad[b];
        assert_eq!(mask[b].iter().filter(|&&m| m == 0).count(), pad);
        let ours = logits.get(b).unwrap().narrow(0, pad, row.len()).unwrap();
        let theirs = r["batch_logits"]
            .get(b)
            .unwrap()
            .narrow(0, pad, row.len())
            .unwrap();
        assert!(max_abs_diff(&ours, &theirs) <= F32_TOL);
        let (single, _) = prefill_and_decode(&model, row, &[]);
        let delta = max_abs_diff(&ours, &single);
        assert!(delta <= 1e-5, "batched vs single row {b}: {delta}");
    }
}

fn load_4bit(name: &str) -> TextModel {
    let opts = LoadOptions {
        tokenizer_path: Some(fixture("tiny-qwen2/tokenizer.json")),
        load_in_4bit: true,
        ..Default::default()
    };
    TextModel::load(&fixture(name), &opts).unwrap()
}

#[test]
fn load_in_4bit_quantizes_dense_projections_at_load() {
    let model = load_4bit("tiny-qwen2");
    let info = model.info();
    assert_eq!(info.quantization, "Q4_0");
    assert_eq!(info.parameters, load("tiny-qwen2").info().parameters);
    let r = reference("tiny-qwen2");
    let (prefill, _) = prefill_and_decode(&model, &ids(&r["prompt_ids"]), &[]);
    let worst = max_abs_diff(&prefill, &r["prefill_logits"]);
    // 4-bit projections (16 levels per block of 32, a grid 16x coarser than Q8_0's) on random
    // weights: measured 2.41, against a few tenths for Q8_0 and a logit spread of about ±8.
    assert!(worst > 0.1, "projections must be quantized (Δ = {worst})");
    assert!(worst < 4.0, "max |Δlogit| = {worst}");
}

#[test]
fn load_in_4bit_leaves_gguf_weights_as_they_are() {
    let model = load_4bit("tiny-qwen2.q8_0.gguf");
    assert_eq!(model.info().quantization, "Q8_0");
    let r = reference("tiny-qwen2");
    let prompt = ids(&r["prompt_ids"]);
    let (with_flag, _) = prefill_and_decode(&model, &prompt, &[]);
    let (without, _) = prefill_and_decode(&load("tiny-qwen2.q8_0.gguf"), &prompt, &[]);
    assert_eq!(max_abs_diff(&with_flag, &without), 0.0);
}

#[test]
fn cuda_without_the_cuda_feature_is_a_coded_error() {
    if opt_native_inference::cuda_available() {
        return; // a CUDA build: the request goes to the device instead
    }
    let opts = LoadOptions {
        device: opt_native_inference::DeviceRequest::Cuda(0),
        tokenizer_path: Some(fixture("tiny-qwen2/tokenizer.json")),
        ..Default::default()
    };
    let error = TextModel::load(&fixture("tiny-qwen2"), &opts)
        .err()
        .unwrap();
    assert_eq!(error.code(), "E_BAD_INPUT");
    assert!(error.to_string().contains("no CUDA support"), "{error}");
}
