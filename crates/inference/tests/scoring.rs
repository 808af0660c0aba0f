//! Choice scoring (`score_choices`, `score_choices_batch`) against a plain forward of prompt +
//! choice, on dense (safetensors) and quantized (Q8_0 GGUF) tiny random models, with multi-token
//! choices that share a prefix.

mod common;

use std::sync::atomic::AtomicBool;

use common::*;
use opt_native_inference::{ChatMessage, ChoiceScores, PromptInput, TextModel};

const TOL: f32 = 1e-4;
const MODELS: [&str; 2] = ["tiny-qwen2", "tiny-qwen2.q8_0.gguf"];
const CHOICE_SETS: [&[&str]; 3] = [
    &["(A)", "(B)"],
    &["(A)", "(B)", "(AB)"],
    &[" Yes", " Yes indeed", " No"],
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn chat(system: &str, user: &str) -> PromptInput {
    PromptInput::Chat(vec![
        ChatMessage {
            role: "system".into(),
            content: system.into(),
        },
        ChatMessage {
            role: "user".into(),
            content: user.into(),
        },
    ])
}

fn prompt_ids(model: &TextModel, prompt: &PromptInput) -> Vec<u32> {
    let text = match prompt {
        PromptInput::Chat(messages) => model.render_chat(messages),
        PromptInput::Raw(text) => text.clone(),
    };
    model.tokenize(&text).unwrap()
}

/// Every token log-prob and every sum equals the plain forward's, within `TOL`.
fn assert_matches_plain_forward(model: &TextModel, prompt: &PromptInput, scored: &ChoiceScores) {
    let ids = prompt_ids(model, prompt);
    for choice in &scored.choices {
        assert_eq!(choice.token_ids, model.tokenize(&choice.text).unwrap());
        let want = plain_forward_logprobs(model, &ids, &choice.token_ids);
        assert_eq!(choice.token_logprobs.len(), want.len());
        for (got, want) in choice.token_logprobs.iter().zip(&want) {
            assert!(
                (got - want).abs() <= TOL,
                "{:?}: {got} vs {want}",
                choice.text
            );
        }
        let sum: f32 = want.iter().sum();
        assert!((choice.logprob - sum).abs() <= TOL, "{:?}", choice.text);
    }
    let total: f32 = scored.choices.iter().map(|c| c.probability).sum();
    assert!((total - 1.0).abs() < 1e-5);
}

fn assert_same_scores(a: &ChoiceScores, b: &ChoiceScores) {
    assert_eq!(a.best, b.best);
    assert_eq!(a.usage, b.usage);
    for (x, y) in a.choices.iter().zip(&b.choices) {
        assert_eq!(x.token_ids, y.token_ids);
        for (p, q) in x.token_logprobs.iter().zip(&y.token_logprobs) {
            assert!((p - q).abs() <= TOL, "{:?}: {p} vs {q}", x.text);
        }
        assert!((x.probability - y.probability).abs() <= TOL);
    }
}

#[test]
fn score_choices_equals_a_plain_forward_on_dense_and_quantized_weights() {
    let cancel = AtomicBool::new(false);
    let prompt = PromptInput::Raw(PROMPT.into());
    for name in MODELS {
        let mut model = load(name);
        for choices in CHOICE_SETS {
            let scored = model
                .score_choices(&prompt, &strings(choices), &cancel)
                .unwrap_or_else(|e| panic!("{name} {choices:?}: {e}"));
            assert_matches_plain_forward(&model, &prompt, &scored);
            let choice_tokens: usize = scored.choices.iter().map(|c| c.token_ids.len()).sum();
            assert_eq!(scored.usage.prompt_tokens, 24 + choice_tokens);
        }
    }
}

/// The Q8_0 model must really run quantized weights, or the test above proves nothing about them.
#[test]
fn quantized_scores_differ_from_the_dense_ones() {
    let cancel = AtomicBool::new(false);
    let prompt = PromptInput::Raw(PROMPT.into());
    let choices = strings(CHOICE_SETS[1]);
    let dense = load(MODELS[0])
        .score_choices(&prompt, &choices, &cancel)
        .unwrap();
    let quantized = load(MODELS[1])
        .score_choices(&prompt, &choices, &cancel)
        .unwrap();
    let largest_gap = dense
        .choices
        .iter()
        .zip(&quantized.choices)
        .map(|(d, q)| (d.logprob - q.logprob).abs())
        .fold(0.0, f32::max);
    assert!(largest_gap > 1e-3, "gap {largest_gap}");
}

/// Chat prompts sharing the system turn; raw prompts where one is a prefix of another; raw
/// prompts sharing nothing; one prompt twice.
fn batches() -> Vec<Vec<PromptInput>> {
    let system = "Answer with the option letter.";
    vec![
        vec![
            chat(system, "Is water wet? (A) yes (B) no"),
            chat(system, "Is fire cold?"),
            chat(system, "Pick one: (A) up (B) down (AB) both"),
        ],
        vec![
            PromptInput::Raw(PROMPT.into()),
            PromptInput::Raw(format!("{PROMPT} a city")),
            PromptInput::Raw("The capital".into()),
        ],
        vec![
            PromptInput::Raw("Hi there".into()),
            PromptInput::Raw("A longer prompt!".into()),
        ],
        vec![
            PromptInput::Raw(PROMPT.into()),
            PromptInput::Raw(PROMPT.into()),
        ],
    ]
}

#[test]
fn batch_scores_equal_per_prompt_scores_and_plain_forwards() {
    let cancel = AtomicBool::new(false);
    for name in MODELS {
        let mut model = load(name);
        for prompts in batches() {
            for choices in CHOICE_SETS {
                let choices = strings(choices);
                let batch = model
                    .score_choices_batch(&prompts, &choices, &cancel)
                    .unwrap();
                assert_eq!(batch.len(), prompts.len());
                for (prompt, scored) in prompts.iter().zip(&batch) {
                    let alone = model.score_choices(prompt, &choices, &cancel).unwrap();
                    assert_same_scores(scored, &alone);
                    assert_matches_plain_forward(&model, prompt, scored);
                }
            }
        }
    }
}

#[test]
fn batch_edge_cases_are_refused_or_empty() {
    let mut model = load("tiny-qwen2.q8_0.gguf");
    let choices = strings(CHOICE_SETS[0]);
    let cancel = AtomicBool::new(false);
    assert!(model
        .score_choices_batch(&[], &choices, &cancel)
        .unwrap()
        .is_empty());
    let prompts = [PromptInput::Raw(PROMPT.into()), PromptInput::Raw("".into())];
    let err = model
        .score_choices_batch(&prompts, &choices, &cancel)
        .unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
    let err = model
        .score_choices_batch(&prompts[..1], &[], &cancel)
        .unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
    let err = model
        .score_choices_batch(&prompts[..1], &strings(&["(A)", ""]), &cancel)
        .unwrap_err();
    assert_eq!(err.code(), "E_BAD_INPUT");
    let err = model
        .score_choices_batch(&prompts[..1], &choices, &AtomicBool::new(true))
        .unwrap_err();
    assert_eq!(err.code(), "E_ABORTED");
    let long = PromptInput::Raw("x".repeat(127));
    let err = model
        .score_choices_batch(&[long], &strings(&["(AB)"]), &cancel)
        .unwrap_err();
    assert_eq!(
        err.code(),
        "E_BAD_INPUT",
        "127 + 4 tokens exceed the context of 128"
    );
}

/// Generation after scoring starts from a clean cache (scoring leaves its choice tree behind).
#[test]
fn generation_after_scoring_is_unaffected() {
    let mut model = load("tiny-qwen2.q8_0.gguf");
    let request = opt_native_inference::GenerateRequest {
        prompt: PromptInput::Raw(PROMPT.into()),
        max_tokens: 6,
        sampling: Default::default(),
        stop: Vec::new(),
    };
    let cancel = AtomicBool::new(false);
    let before = model.generate(&request, &mut |_| {}, &cancel).unwrap();
    model
        .score_choices_batch(&batches()[1], &strings(CHOICE_SETS[2]), &cancel)
        .unwrap();
    let after = model.generate(&request, &mut |_| {}, &cancel).unwrap();
    assert_eq!(before.token_ids, after.token_ids);
}
