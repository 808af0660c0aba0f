//! LoRA training tokens/s of a model beside its prefill tokens/s on the same chats: the Rust twin of
//! `benches/finetune.bench.ts`, for machines without Node (the GPU machine gets this binary).
//!
//! cargo run --release -p opt-native-inference --example bench_finetune -- MODEL TOKENIZER [EXAMPLES] [STEPS] [BATCH] [--device cpu|cuda] [--repeat N]
//! MODEL is a .gguf file or an HF folder. Chats are ~110 tokens; `--repeat N` repeats the user
//! turn's text N times for longer sequences. Training is LoRA r = 8 on all seven projections, f32.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use opt_native_inference::train::{run_finetune, FinetuneConfig};
use opt_native_inference::{
    ChatMessage, DeviceRequest, GenerateRequest, LoadOptions, PromptInput, SamplingParams,
    TextModel,
};

type BoxError = Box<dyn std::error::Error>;

const USAGE: &str = "usage: bench_finetune MODEL TOKENIZER [EXAMPLES] [STEPS] [BATCH] [--device cpu|cuda] [--repeat N]";

struct Args {
    model: PathBuf,
    tokenizer: PathBuf,
    examples: usize,
    steps: usize,
    batch: usize,
    repeat: usize,
    device: DeviceRequest,
}

fn main() -> Result<(), BoxError> {
    let args = parse_args()?;
    let chats = chats(args.examples, args.repeat);
    let dir = std::env::temp_dir().join(format!("bench-finetune-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = train_then_prefill(&args, &chats, &dir);
    std::fs::remove_dir_all(&dir)?;
    result
}

fn train_then_prefill(args: &Args, chats: &[Vec<ChatMessage>], dir: &Path) -> Result<(), BoxError> {
    let data = dir.join("train.jsonl");
    let lines: Vec<String> = chats
        .iter()
        .map(|messages| serde_json::json!({ "messages": messages }).to_string())
        .collect();
    std::fs::write(&data, lines.join("\n"))?;
    let mut config = FinetuneConfig::new(args.model.clone(), data, dir.join("out"));
    config.tokenizer = Some(args.tokenizer.clone());
    config.batch_size = args.batch;
    config.max_steps = Some(args.steps);
    config.epochs = 1000;
    config.checkpoint_every = 0;
    config.max_seq_len = 4096;
    config.device = args.device;
    let cancel = AtomicBool::new(false);
    let summary = run_finetune(
        config,
        |p| {
            eprintln!(
                "step {}/{} {:.1} tok/s",
                p.step, p.total_steps, p.tokens_per_second
            )
        },
        &cancel,
    )?;

    let opts = LoadOptions {
        device: args.device,
        tokenizer_path: Some(args.tokenizer.clone()),
        ..LoadOptions::default()
    };
    let mut model = TextModel::load(&args.model, &opts)?;
    let batch = &chats[..args.batch.min(chats.len())];
    model.generate(&one_token(&batch[0]), &mut |_| {}, &cancel)?; // warm-up
    let mut prompt_tokens = 0;
    let start = Instant::now();
    for _ in 0..args.steps {
        for messages in batch {
            let out = model.generate(&one_token(messages), &mut |_| {}, &cancel)?;
            prompt_tokens += out.usage.prompt_tokens;
        }
    }
    let prefill = prompt_tokens as f64 / start.elapsed().as_secs_f64();
    println!(
        "training (LoRA r=8, all targets, f32): {:.1} tok/s",
        summary.tokens_per_second
    );
    println!("prefill (inference path, {prompt_tokens} tokens): {prefill:.1} tok/s");
    println!(
        "training costs {:.2}x a prefill per token; {} steps, {} tokens, loss {:.3} -> {:.3}; peak RSS of training {:.2} GiB",
        prefill / summary.tokens_per_second,
        summary.steps,
        summary.tokens,
        summary.first_train_loss,
        summary.final_train_loss,
        summary.peak_rss_bytes.unwrap_or(0) as f64 / f64::from(1u32 << 30),
    );
    Ok(())
}

/// The chats of `benches/finetune.bench.ts`, the user turn's text repeated `repeat` times.
fn chats(examples: usize, repeat: usize) -> Vec<Vec<ChatMessage>> {
    let message = |role: &str, content: String| ChatMessage {
        role: role.to_string(),
        content,
    };
    (0..examples)
        .map(|i| {
            let task = format!(
                "Task {i}: a robot starts at the origin facing north. It takes {} steps forward, turns right, \
                 takes {} steps, turns right again and takes {} steps. How far is it from the origin, in steps, \
                 and which way does it face? Explain nothing. ",
                i + 2,
                i + 3,
                i + 2
            );
            vec![
                message(
                    "system",
                    "You are a careful assistant. Answer with the final result only.".into(),
                ),
                message("user", task.repeat(repeat.max(1))),
                message(
                    "assistant",
                    format!("{} steps east of the origin, facing south.", i + 3),
                ),
            ]
        })
        .collect()
}

fn one_token(messages: &[ChatMessage]) -> GenerateRequest {
    GenerateRequest {
        prompt: PromptInput::Chat(messages.to_vec()),
        max_tokens: 1,
        sampling: SamplingParams::default(),
        stop: vec![],
    }
}

fn parse_args() -> Result<Args, BoxError> {
    let mut positional = Vec::new();
    let mut device = DeviceRequest::Cpu;
    let mut repeat = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--device" => {
                device = match args.next().as_deref() {
                    Some("cpu") => DeviceRequest::Cpu,
                    Some("cuda") => DeviceRequest::Cuda(0),
                    _ => return Err(USAGE.into()),
                }
            }
            "--repeat" => repeat = args.next().ok_or(USAGE)?.parse()?,
            _ => positional.push(arg),
        }
    }
    let number = |i: usize, default: usize| -> Result<usize, BoxError> {
        Ok(positional.get(i).map_or(Ok(default), |s| s.parse())?)
    };
    Ok(Args {
        model: positional.first().ok_or(USAGE)?.into(),
        tokenizer: positional.get(1).ok_or(USAGE)?.into(),
        examples: number(2, 4)?,
        steps: number(3, 2)?,
        batch: number(4, 1)?,
        repeat,
        device,
    })
}
