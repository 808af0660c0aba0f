//! The LoRA training forward: gradients (finite differences), agreement with the inference
//! decoder, gradient accumulation and dropout.

mod common;

use candle_core::{DType, Device, Tensor};
use common::random_qwen2::{
    all_targets, decoder, random_tensors, randomize_b, source, tiny_config, train_model,
};
use opt_native_inference::lora::{LoraAdapter, LoraDelta};
use opt_native_inference::train::adapter::peft_config;
use opt_native_inference::train::trainer::accumulated_gradients;
use opt_native_inference::train::{LoraSpec, TokenBatch, TokenizedExample, TrainModel};
use opt_native_inference::{BatchLayout, DecoderInput};

fn example(ids: &[u32], first_learned: usize) -> TokenizedExample {
    TokenizedExample {
        ids: ids.to_vec(),
        learned: (0..ids.len()).map(|i| i >= first_learned).collect(),
    }
}

fn two_row_batch() -> TokenBatch {
    let short = example(&[3, 14, 15, 9, 2, 6], 3);
    let long = example(&[5, 35, 8, 9, 7, 9, 3, 23, 8, 4], 5);
    TokenBatch::new(&[&short, &long], 0, &Device::Cpu).unwrap()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Central difference of the mean loss in element `index` of `var`.
fn numeric_gradient(model: &TrainModel, batch: &TokenBatch, var: usize, index: usize) -> f64 {
    let var = &model.vars()[var];
    let original = values(var.as_tensor());
    let eps = 1e-6;
    let loss_at = |delta: f64| {
        let mut shifted = original.clone();
        shifted[index] += delta;
        var.set(&Tensor::from_vec(shifted, var.shape(), &Device::Cpu).unwrap())
            .unwrap();
        model.mean_loss(batch).unwrap()
    };
    let (plus, minus) = (loss_at(eps), loss_at(-eps));
    var.set(&Tensor::from_vec(original, var.shape(), &Device::Cpu).unwrap())
        .unwrap();
    (plus - minus) / (2.0 * eps)
}

/// Every lora_A and lora_B of every targeted projection in both layers: the backward pass
/// (through the composed rms_norm, rope and softmax, the padded mask and the gathered LM head)
/// agrees with finite differences, and no factor's gradient is zero.
#[test]
fn lora_gradients_match_finite_differences_on_every_target() {
    let cfg = tiny_config(false);
    let weights = source(random_tensors(&cfg, 1), DType::F64);
    let model = train_model(&weights, &cfg, all_targets(), DType::F64);
    randomize_b(&model, 0.3);
    let batch = two_row_batch();
    let (_, grads, _) = accumulated_gradients(&model, std::slice::from_ref(&batch), 0).unwrap();
    assert_eq!(grads.len(), 2 * 7 * cfg.num_layers);
    for (v, grad) in grads.iter().enumerate() {
        let analytic = values(grad);
        let norm = analytic.iter().map(|g| g * g).sum::<f64>().sqrt();
        assert!(norm > 1e-6, "factor {v}: gradient is zero");
        for index in [0, analytic.len() / 2, analytic.len() - 1] {
            let numeric = numeric_gradient(&model, &batch, v, index);
            let tolerance = 1e-7 + 1e-5 * numeric.abs().max(analytic[index].abs());
            assert!(
                (numeric - analytic[index]).abs() < tolerance,
                "factor {v} element {index}: backward {} vs finite difference {numeric}",
                analytic[index]
            );
        }
    }
}

fn inference_logits(dec: &opt_native_inference::Qwen2Decoder, ids: &Tensor) -> Tensor {
    let hidden = dec
        .forward_hidden(
            DecoderInput::Tokens(ids),
            &BatchLayout::unpadded(1),
            &mut dec.new_cache(),
        )
        .unwrap();
    dec.logits(&hidden).unwrap()
}

fn training_logits(model: &TrainModel, ids: &Tensor) -> Tensor {
    let hidden = model
        .forward_hidden(ids, &[ids.dim(1).unwrap()], None)
        .unwrap();
    model.logits(&hidden).unwrap().to_dtype(DType::F32).unwrap()
}

fn ids(tokens: &[u32]) -> Tensor {
    Tensor::new(tokens, &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap()
}

/// With `lora_B = 0` (a fresh adapter) the training path is the inference decoder.
#[test]
fn fresh_adapters_leave_the_inference_logits_unchanged() {
    let cfg = tiny_config(false);
    let weights = source(random_tensors(&cfg, 2), DType::F32);
    let model = train_model(&weights, &cfg, all_targets(), DType::F32);
    let tokens = ids(&[1, 7, 22, 39, 4, 4, 18, 0, 31]);
    let want = inference_logits(&decoder(&weights, &cfg, DType::F32), &tokens);
    let got = training_logits(&model, &tokens);
    assert_eq!(got.dims(), &[1, 9, 40]);
    assert!(common::max_abs_diff(&got, &want) < 1e-5);
}

/// With `lora_B ≠ 0` the training path equals the decoder with `W + scale·B·A` merged in
/// (through the shared PEFT merge code), here on tied embeddings.
#[test]
fn trained_adapters_equal_the_merged_weights() {
    let cfg = tiny_config(true);
    let tensors = random_tensors(&cfg, 3);
    let weights = source(tensors.clone(), DType::F32);
    let spec = LoraSpec {
        use_rslora: true,
        ..all_targets()
    };
    let model = train_model(&weights, &cfg, spec, DType::F32);
    randomize_b(&model, 0.4);
    let adapter = LoraAdapter {
        config: peft_config(model.spec(), None),
        deltas: model
            .factors()
            .iter()
            .map(|n| LoraDelta {
                weight_name: format!("{}.weight", n.module),
                a: n.factors.a.as_tensor().clone(),
                b: n.factors.b.as_tensor().clone(),
            })
            .collect(),
    };
    let mut merged = tensors;
    adapter.merge_into(&mut merged).unwrap();
    let merged = source(merged, DType::F32);
    let tokens = ids(&[1, 7, 22, 39, 4, 4, 18, 0, 31, 12]);
    let want = inference_logits(&decoder(&merged, &cfg, DType::F32), &tokens);
    let unmerged = inference_logits(&decoder(&weights, &cfg, DType::F32), &tokens);
    let got = training_logits(&model, &tokens);
    assert!(common::max_abs_diff(&got, &want) < 1e-4);
    assert!(
        common::max_abs_diff(&got, &unmerged) > 1e-2,
        "the adapter changes the output"
    );
}

/// A quantized GGUF base is dequantized once; the result is the inference path's (which runs
/// a prefill of 8+ rows as an f32 GEMM over the same dequantized weights).
#[test]
fn quantized_gguf_base_trains_on_its_dequantized_weights() {
    let path = common::fixture("tiny-qwen2.q8_0.gguf");
    let opened =
        opt_native_inference::loader::open_weights(&path, &Device::Cpu, DType::F32).unwrap();
    let vb = opt_native_inference::weights::Weights::new(&opened.source, DType::F32);
    let model =
        TrainModel::new(&opened.config, &vb, all_targets(), DType::F32, &Device::Cpu).unwrap();
    let dec = decoder(&opened.source, &opened.config, DType::F32);
    let tokens = ids(&[84, 104, 101, 32, 99, 97, 112, 105, 116, 97, 108, 33]);
    let diff = common::max_abs_diff(
        &training_logits(&model, &tokens),
        &inference_logits(&dec, &tokens),
    );
    assert!(diff < 1e-4, "{diff}");
}

/// Two micro-batches of one row accumulate to the gradients of one batch of both rows.
#[test]
fn accumulated_micro_batches_equal_one_batch() {
    let cfg = tiny_config(false);
    let weights = source(random_tensors(&cfg, 4), DType::F64);
    let model = train_model(&weights, &cfg, all_targets(), DType::F64);
    randomize_b(&model, 0.3);
    let short = example(&[3, 14, 15, 9, 2, 6], 3);
    let long = example(&[5, 35, 8, 9, 7, 9, 3, 23, 8, 4], 5);
    let both = TokenBatch::new(&[&short, &long], 0, &Device::Cpu).unwrap();
    let (loss, grads, tokens) = accumulated_gradients(&model, &[both], 0).unwrap();
    let parts = [
        TokenBatch::new(&[&short], 0, &Device::Cpu).unwrap(),
        TokenBatch::new(&[&long], 0, &Device::Cpu).unwrap(),
    ];
    let (part_loss, part_grads, part_tokens) = accumulated_gradients(&model, &parts, 0).unwrap();
    assert_eq!((tokens, part_tokens), (8, 8));
    assert!((loss - part_loss).abs() < 1e-12);
    for (a, b) in grads.iter().zip(&part_grads) {
        let diff = values(a)
            .iter()
            .zip(values(b))
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(diff < 1e-12, "{diff}");
    }
}

/// Dropout masks come from (seed, step): the same step repeats exactly, another step differs,
/// and p = 0 is the plain loss.
#[test]
fn dropout_is_seeded_per_step() {
    let cfg = tiny_config(false);
    let weights = source(random_tensors(&cfg, 5), DType::F64);
    let spec = LoraSpec {
        dropout: 0.5,
        ..all_targets()
    };
    let model = train_model(&weights, &cfg, spec, DType::F64);
    randomize_b(&model, 0.3);
    let loss_at = |step| {
        accumulated_gradients(&model, &[two_row_batch()], step)
            .unwrap()
            .0
    };
    let plain = model.mean_loss(&two_row_batch()).unwrap();
    assert_eq!(loss_at(3), loss_at(3));
    assert_ne!(loss_at(3), loss_at(4));
    assert!((loss_at(3) - plain).abs() > 1e-6);
}

/// `prompt` followed by `n` tokens of greedy decoding under the inference decoder.
fn greedy(dec: &opt_native_inference::Qwen2Decoder, prompt: &[u32], n: usize) -> Vec<u32> {
    let mut tokens = prompt.to_vec();
    for _ in 0..n {
        let logits = inference_logits(dec, &ids(&tokens)).squeeze(0).unwrap();
        let last = logits.get(tokens.len() - 1).unwrap();
        tokens.push(last.argmax(0).unwrap().to_scalar::<u32>().unwrap());
    }
    tokens
}

/// An example counts as an exact match only if greedy decoding reproduces every learned token:
/// a greedy continuation does, the same with its last token changed does not, and an example
/// without learned tokens is not counted. The loss is `loss_sum`'s.
#[test]
fn eval_exact_match_counts_the_examples_greedy_decoding_reproduces() {
    let cfg = tiny_config(false);
    let weights = source(random_tensors(&cfg, 2), DType::F32);
    let model = train_model(&weights, &cfg, all_targets(), DType::F32);
    let dec = decoder(&weights, &cfg, DType::F32);
    let reproduced = greedy(&dec, &[1, 7, 22], 4);
    let mut last_changed = greedy(&dec, &[5, 9, 31, 2, 8], 3);
    let last = last_changed.last_mut().unwrap();
    *last = (*last + 1) % cfg.vocab_size as u32;
    let examples = [
        example(&reproduced, 3),
        example(&last_changed, 5),
        example(&[4, 4, 18], 3),
    ];
    let refs: Vec<&TokenizedExample> = examples.iter().collect();
    let batch = TokenBatch::new(&refs, 0, &Device::Cpu).unwrap();
    let eval = model.eval_batch(&batch).unwrap();
    assert_eq!((eval.exact_matches, eval.scored_examples), (1, 2));
    let loss = model.loss_sum(&batch, None).unwrap();
    assert_eq!(eval.loss_sum, values(&loss)[0]);
}
