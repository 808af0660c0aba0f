//! Prefill and decode throughput of a model file.
//!
//! cargo run --release -p opt-native-inference --example bench_generate -- MODEL [TOKENIZER] [PROMPT_TOKENS] [NEW_TOKENS]
//! Threads: candle uses rayon; set RAYON_NUM_THREADS to pin the count.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use opt_native_inference::{GenerateRequest, LoadOptions, PromptInput, SamplingParams, TextModel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let model_path = args
        .get(1)
        .ok_or("usage: bench_generate MODEL [TOKENIZER] [PROMPT_TOKENS] [NEW_TOKENS]")?;
    let opts = LoadOptions {
        tokenizer_path: args.get(2).map(PathBuf::from),
        ..Default::default()
    };
    let prompt_tokens: usize = args.get(3).map_or(Ok(128), |s| s.parse())?;
    let new_tokens: usize = args.get(4).map_or(Ok(64), |s| s.parse())?;
    let start = Instant::now();
    let mut model = TextModel::load(&PathBuf::from(model_path), &opts)?;
    println!(
        "load: {:.2}s {:?}",
        start.elapsed().as_secs_f64(),
        model.info()
    );
    let prompt = long_prompt(&model, prompt_tokens)?;
    let cancel = AtomicBool::new(false);
    // Prefill alone: a one-token generation.
    let one = request(&prompt, 1);
    model.generate(&one, &mut |_| {}, &cancel)?; // warm-up
    let start = Instant::now();
    let out = model.generate(&one, &mut |_| {}, &cancel)?;
    let prefill = start.elapsed().as_secs_f64();
    println!(
        "prefill: {} tokens in {prefill:.3}s = {:.1} tok/s",
        out.usage.prompt_tokens,
        out.usage.prompt_tokens as f64 / prefill
    );
    let start = Instant::now();
    let mut first_token_at = None;
    let out = model.generate(
        &request(&prompt, new_tokens),
        &mut |_| {
            first_token_at.get_or_insert(start.elapsed());
        },
        &cancel,
    )?;
    let total = start.elapsed().as_secs_f64();
    let decode_tokens = out.usage.completion_tokens.saturating_sub(1).max(1);
    println!(
        "decode: {} tokens in {:.3}s after prefill = {:.1} tok/s (end-to-end {:.2}s)",
        decode_tokens,
        total - prefill,
        decode_tokens as f64 / (total - prefill),
        total
    );
    println!("text: {:?}", out.text);
    Ok(())
}

fn request(prompt: &str, max_tokens: usize) -> GenerateRequest {
    GenerateRequest {
        prompt: PromptInput::Raw(prompt.to_string()),
        max_tokens,
        sampling: SamplingParams::default(),
        stop: vec![],
    }
}

/// A prompt of about `tokens` tokens.
fn long_prompt(model: &TextModel, tokens: usize) -> Result<String, Box<dyn std::error::Error>> {
    let sentence =
        "The quick brown fox jumps over the lazy dog while the cat watches from the window. ";
    let mut text = String::from("Summarize the following text.\n");
    while model.count_tokens(&text)? < tokens {
        text.push_str(sentence);
    }
    Ok(text)
}
