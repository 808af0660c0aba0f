//! Golden: HF PEFT + transformers on the tiny Qwen2 (scripts/make_lora_fixture.py). PEFT's own
//! saved adapter loads in ours and gives PEFT's logits, completion-only loss and LoRA gradients.

mod common;

use candle_core::{DType, Device, Tensor};
use opt_native_inference::loader::open_weights;
use opt_native_inference::tokenizer::TextTokenizer;
use opt_native_inference::train::adapter::load_with_adapter;
use opt_native_inference::train::trainer::accumulated_gradients;
use opt_native_inference::train::{tokenize_chat, TokenBatch, TokenizedExample, TrainModel};
use opt_native_inference::weights::Weights;
use opt_native_inference::ChatMessage;

struct Golden {
    model: TrainModel,
    reference: std::collections::HashMap<String, Tensor>,
    examples: Vec<TokenizedExample>,
}

fn golden() -> Golden {
    let opened = open_weights(&common::fixture("tiny-qwen2"), &Device::Cpu, DType::F32).unwrap();
    let vb = Weights::new(&opened.source, DType::F32);
    let adapter = common::fixture("tiny-qwen2-lora");
    let model = load_with_adapter(&opened.config, &vb, &adapter, DType::F32, &Device::Cpu).unwrap();
    let reference = common::reference("tiny-qwen2-lora");
    let labels: Vec<Vec<i64>> = reference["labels"]
        .to_dtype(DType::I64)
        .unwrap()
        .to_vec2()
        .unwrap();
    let ids: Vec<Vec<u32>> = reference["ids"]
        .to_dtype(DType::U32)
        .unwrap()
        .to_vec2()
        .unwrap();
    let lengths: Vec<u32> = common::ids(&reference["lengths"]);
    let examples = (0..ids.len())
        .map(|r| {
            let len = lengths[r] as usize;
            TokenizedExample {
                ids: ids[r][..len].to_vec(),
                learned: labels[r][..len].iter().map(|&l| l != -100).collect(),
            }
        })
        .collect();
    Golden {
        model,
        reference,
        examples,
    }
}

fn batch(examples: &[TokenizedExample]) -> TokenBatch {
    let refs: Vec<_> = examples.iter().collect();
    TokenBatch::new(&refs, 256, &Device::Cpu).unwrap()
}

/// Our ChatML tokenization and completion-only mask of the fixture's chats are PEFT's inputs.
#[test]
fn our_tokenization_gives_the_reference_ids_and_labels() {
    let g = golden();
    let tok = TextTokenizer::from_file(&common::fixture("tiny-qwen2/tokenizer.json")).unwrap();
    let text = std::fs::read_to_string(common::fixture("tiny-qwen2-lora/chats.json")).unwrap();
    let chats: Vec<Vec<ChatMessage>> = serde_json::from_str(&text).unwrap();
    for (chat, want) in chats.iter().zip(&g.examples) {
        assert_eq!(&tokenize_chat(&tok, chat, 512, 1).unwrap(), want);
    }
}

#[test]
fn logits_match_peft_at_every_real_position() {
    let g = golden();
    let b = batch(&g.examples);
    let hidden = g.model.forward_hidden(&b.ids, &b.lengths, None).unwrap();
    let logits = g.model.logits(&hidden).unwrap();
    for (row, &len) in b.lengths.iter().enumerate() {
        let ours = logits.get(row).unwrap().narrow(0, 0, len).unwrap();
        let theirs = g.reference["logits"]
            .get(row)
            .unwrap()
            .narrow(0, 0, len)
            .unwrap();
        let diff = common::max_abs_diff(&ours, &theirs);
        assert!(diff < 1e-4, "row {row}: {diff}");
    }
}

#[test]
fn loss_and_lora_gradients_match_peft() {
    let g = golden();
    let (loss, grads, _) = accumulated_gradients(&g.model, &[batch(&g.examples)], 0).unwrap();
    let want: Vec<f32> = g.reference["loss"].to_vec1().unwrap();
    assert!(
        (loss - want[0] as f64).abs() < 1e-4,
        "{loss} vs {}",
        want[0]
    );
    let names = g.model.factors();
    assert_eq!(grads.len(), 2 * names.len());
    assert_eq!(names.len(), 14);
    for (k, named) in names.iter().enumerate() {
        for (factor, grad) in [("lora_A", &grads[2 * k]), ("lora_B", &grads[2 * k + 1])] {
            let key = format!("grad.base_model.model.{}.{factor}.weight", named.module);
            let diff = common::max_abs_diff(grad, &g.reference[&key]);
            assert!(diff < 1e-4, "{key}: {diff}");
        }
    }
}
