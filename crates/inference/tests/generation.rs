//! Generation, streaming, stop strings, batching and choice scoring on the tiny fixture model.

mod common;

use std::sync::atomic::AtomicBool;

use common::*;
use opt_native_inference::{
    ChatMessage, FinishReason, GenerateRequest, PromptInput, SamplingParams, TextModel,
};

fn request(prompt: &str, max_tokens: usize) -> GenerateRequest {
    GenerateRequest {
        prompt: PromptInput::Raw(prompt.to_string()),
        max_tokens,
        sampling: SamplingParams::default(),
        stop: Vec::new(),
    }
}

fn run(
    model: &mut TextModel,
    req: &GenerateRequest,
) -> (opt_native_inference::GenerateOutput, String) {
    let mut streamed = String::new();
    let out = model
        .generate(
            req,
            &mut |piece| streamed.push_str(piece),
            &AtomicBool::new(false),
        )
        .unwrap();
    (out, streamed)
}

#[test]
fn greedy_generation_reproduces_the_reference_tokens() {
    let mut model = load("tiny-qwen2");
    let r = reference("tiny-qwen2");
    let (out, streamed) = run(&mut model, &request(PROMPT, 10));
    assert_eq!(out.token_ids, ids(&r["decode_tokens"]));
    assert_eq!(out.usage.prompt_tokens, 24);
    assert_eq!(out.usage.completion_tokens, 10);
    assert_eq!(out.finish_reason, FinishReason::Length);
    assert_eq!(out.text, model.detokenize(&out.token_ids).unwrap());
    assert_eq!(streamed, out.text);
}

#[test]
fn stop_string_ends_generation_and_is_not_returned() {
    let mut model = load("tiny-qwen2");
    let (full, _) = run(&mut model, &request(PROMPT, 10));
    let chars: Vec<char> = full.text.chars().collect();
    assert!(
        chars.len() >= 6,
        "fixture output too short: {:?}",
        full.text
    );
    let stop: String = chars[3..5].iter().collect();
    let want: String = chars[..3].iter().collect();
    let cut_at = full.text.find(&stop).unwrap();
    let mut req = request(PROMPT, 10);
    req.stop = vec![stop.clone(), "never-there".into()];
    let (out, streamed) = run(&mut model, &req);
    assert_eq!(out.text, &full.text[..cut_at]);
    assert!(out.text.len() <= want.len());
    assert_eq!(streamed, out.text);
    assert_eq!(out.finish_reason, FinishReason::Stop);
    assert!(out.usage.completion_tokens < 10);
}

#[test]
fn seeded_sampling_is_reproducible() {
    let mut model = load("tiny-qwen2");
    let mut req = request(PROMPT, 12);
    req.sampling = SamplingParams {
        temperature: 1.5,
        top_k: Some(50),
        top_p: Some(0.95),
        seed: 42,
        ..Default::default()
    };
    let (a, _) = run(&mut model, &req);
    let (b, _) = run(&mut model, &req);
    assert_eq!(a.token_ids, b.token_ids);
    req.sampling.seed = 43;
    let (c, _) = run(&mut model, &req);
    assert_ne!(
        a.token_ids, c.token_ids,
        "a different seed should change 12 tokens at T=1.5"
    );
}

#[test]
fn batch_generation_equals_one_by_one() {
    let mut model = load("tiny-qwen2");
    let mut reqs: Vec<GenerateRequest> = BATCH_PROMPTS.iter().map(|p| request(p, 8)).collect();
    reqs[0].max_tokens = 3;
    reqs.push(GenerateRequest {
        sampling: SamplingParams {
            temperature: 0.8,
            seed: 9,
            repetition_penalty: 1.3,
            ..Default::default()
        },
        ..request(PROMPT, 6)
    });
    let batch = model
        .generate_batch(&reqs, &AtomicBool::new(false))
        .unwrap();
    assert_eq!(batch.len(), 3);
    for (req, got) in reqs.iter().zip(&batch) {
        let (single, _) = run(&mut model, req);
        assert_eq!(got, &single);
    }
    assert_eq!(batch[0].usage.completion_tokens, 3);
}

/// A batch of rows gives the quantized LM head a strided `(b, hidden)` view of the last positions;
/// quantized kernels refuse strided input, so this once failed with "input tensor is not contiguous".
#[test]
fn batch_generation_on_quantized_weights_equals_one_by_one() {
    let mut model = load("tiny-qwen2.q8_0.gguf");
    let reqs: Vec<GenerateRequest> = BATCH_PROMPTS.iter().map(|p| request(p, 5)).collect();
    let batch = model
        .generate_batch(&reqs, &AtomicBool::new(false))
        .unwrap();
    for (req, got) in reqs.iter().zip(&batch) {
        let (single, _) = run(&mut model, req);
        assert_eq!(got.token_ids, single.token_ids);
    }
}

#[test]
fn cancel_flag_aborts() {
    let mut model = load("tiny-qwen2");
    let err = model
        .generate(&request(PROMPT, 5), &mut |_| {}, &AtomicBool::new(true))
        .unwrap_err();
    assert_eq!(err.code(), "E_ABORTED");
    let err = model
        .generate_batch(&[request(PROMPT, 5)], &AtomicBool::new(true))
        .unwrap_err();
    assert_eq!(err.code(), "E_ABORTED");
}

#[test]
fn bad_requests_are_refused() {
    let mut model = load("tiny-qwen2");
    let cancel = AtomicBool::new(false);
    for req in [request(PROMPT, 0), request("", 4), request(PROMPT, 200)] {
        let err = model.generate(&req, &mut |_| {}, &cancel).unwrap_err();
        assert_eq!(err.code(), "E_BAD_INPUT", "{req:?}");
    }
    let err = model
        .score_choices(&PromptInput::Raw(PROMPT.into()), &[], &cancel)
        .unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
}

#[test]
fn score_choices_matches_reference_logprobs() {
    let mut model = load("tiny-qwen2");
    let r = reference("tiny-qwen2");
    let choices: Vec<String> = CHOICES.iter().map(|c| c.to_string()).collect();
    let scores = model
        .score_choices(
            &PromptInput::Raw(PROMPT.into()),
            &choices,
            &AtomicBool::new(false),
        )
        .unwrap();
    let sums: Vec<f32> = r["choice_logprob_sums"].to_vec1().unwrap();
    let per_token: Vec<f32> = r["choice_token_logprobs"].to_vec1().unwrap();
    let ours: Vec<f32> = scores
        .choices
        .iter()
        .flat_map(|c| c.token_logprobs.clone())
        .collect();
    assert_eq!(ours.len(), per_token.len());
    for (a, b) in ours.iter().zip(&per_token) {
        assert!((a - b).abs() <= 1e-4, "{a} vs {b}");
    }
    for (choice, want) in scores.choices.iter().zip(&sums) {
        assert!(
            (choice.logprob - want).abs() <= 1e-4,
            "{} vs {want}",
            choice.logprob
        );
    }
    let total: f32 = scores.choices.iter().map(|c| c.probability).sum();
    assert!((total - 1.0).abs() < 1e-5);
    let best = sums
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(scores.best, best);
    let odds = (scores.choices[0].logprob - scores.choices[1].logprob).exp();
    assert!(
        (scores.choices[0].probability / scores.choices[1].probability - odds).abs() < 1e-3 * odds
    );
    assert_eq!(scores.usage.prompt_tokens, 24 + ours.len());
}

#[test]
fn chat_prompt_uses_chatml_with_the_default_system_prompt() {
    let model = load("tiny-qwen2");
    let user = ChatMessage {
        role: "user".into(),
        content: "Hi".into(),
    };
    assert_eq!(
        model.render_chat(std::slice::from_ref(&user)),
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
    let system = ChatMessage {
        role: "system".into(),
        content: "Be brief.".into(),
    };
    let rendered = model.render_chat(&[system, user]);
    assert!(rendered.starts_with("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n"));
    let ids = model.tokenize(&rendered).unwrap();
    assert_eq!(ids[0], 257, "<|im_start|> is one special token");
    assert_eq!(model.count_tokens("abc").unwrap(), 3);
}
