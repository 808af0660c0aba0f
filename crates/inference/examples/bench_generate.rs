//! Prefill and decode throughput of a model file.
//!
//! cargo run --release -p opt-native-inference --example bench_generate -- MODEL [TOKENIZER] [PROMPT_TOKENS] [NEW_TOKENS] [--device cpu|cuda] [--dtype f32|f16|bf16]
//! MODEL is a .gguf file or an HF folder (config.json + safetensors). Threads: candle uses rayon;
//! set RAYON_NUM_THREADS to pin the count. On CUDA every token ends with a host copy of the
//! sampled id, so the timings are synchronized.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use opt_native_inference::{
    DTypeRequest, DeviceRequest, GenerateRequest, LoadOptions, PromptInput, SamplingParams,
    TextModel,
};

type BoxError = Box<dyn std::error::Error>;

const USAGE: &str = "usage: bench_generate MODEL [TOKENIZER] [PROMPT_TOKENS] [NEW_TOKENS] [--device cpu|cuda] [--dtype f32|f16|bf16]";

fn main() -> Result<(), BoxError> {
    let (args, opts) = parse_args()?;
    let model_path = args.first().ok_or(USAGE)?;
    let prompt_tokens: usize = args.get(2).map_or(Ok(128), |s| s.parse())?;
    let new_tokens: usize = args.get(3).map_or(Ok(64), |s| s.parse())?;
    let start = Instant::now();
    let mut model = TextModel::load(&PathBuf::from(model_path), &opts)?;
    println!(
        "load: {:.2}s {:?}",
        start.elapsed().as_secs_f64(),
        model.info()
    );
    println!("memory after load: {}", memory());
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
    println!("memory after generate: {}", memory());
    Ok(())
}

/// Positional arguments (without the program name) and the load options from the flags.
fn parse_args() -> Result<(Vec<String>, LoadOptions), BoxError> {
    let mut positional = Vec::new();
    let mut opts = LoadOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--device" => {
                opts.device = match args.next().as_deref() {
                    Some("cpu") => DeviceRequest::Cpu,
                    Some("cuda") => DeviceRequest::Cuda(0),
                    _ => return Err(USAGE.into()),
                }
            }
            "--dtype" => {
                opts.dtype = Some(match args.next().as_deref() {
                    Some("f32") => DTypeRequest::F32,
                    Some("f16") => DTypeRequest::F16,
                    Some("bf16") => DTypeRequest::Bf16,
                    _ => return Err(USAGE.into()),
                })
            }
            _ => positional.push(arg),
        }
    }
    opts.tokenizer_path = positional.get(1).map(PathBuf::from);
    Ok((positional, opts))
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
fn long_prompt(model: &TextModel, tokens: usize) -> Result<String, BoxError> {
    let sentence =
        "The quick brown fox jumps over the lazy dog while the cat watches from the window. ";
    let mut text = String::from("Summarize the following text.\n");
    while model.count_tokens(&text)? < tokens {
        text.push_str(sentence);
    }
    Ok(text)
}

/// Resident and peak resident memory from /proc (Linux), for the memory columns of the bench.
fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map_or("n/a".to_string(), |v| v.trim().to_string())
    };
    format!("rss {} peak {}", field("VmRSS:"), field("VmHWM:"))
}
