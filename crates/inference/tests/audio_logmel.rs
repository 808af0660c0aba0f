//! Golden test: log-mel features vs HF `WhisperFeatureExtractor(128)`
//! (fixture made by `scripts/make_logmel_fixture.py`).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use opt_native_inference::audio::logmel::N_FRAMES;
use opt_native_inference::audio::LogMelExtractor;

const TOLERANCE: f32 = 1e-4;

fn fixture() -> HashMap<String, Tensor> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logmel/logmel.safetensors");
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

fn vec1_f32(t: &Tensor) -> Vec<f32> {
    t.to_vec1::<f32>().unwrap()
}

fn scalar_i64(t: &Tensor) -> usize {
    t.to_vec1::<i64>().unwrap()[0] as usize
}

/// Largest |rust - reference| over the reference's (mel, frame_index) entries.
fn max_abs_diff(rust: &[f32], reference: &Tensor, frame_indices: &[usize]) -> f32 {
    let reference = reference.to_vec2::<f32>().unwrap();
    let mut worst = 0f32;
    for (mel, row) in reference.iter().enumerate() {
        for (column, &frame) in frame_indices.iter().enumerate() {
            worst = worst.max((rust[mel * N_FRAMES + frame] - row[column]).abs());
        }
    }
    worst
}

#[test]
fn short_clip_matches_whisper_feature_extractor() {
    let fx = fixture();
    let wave = vec1_f32(&fx["short_wave"]);
    let feats = LogMelExtractor::new(128).unwrap().compute(&wave).unwrap();
    assert_eq!((feats.n_mels, feats.n_frames), (128, 3000));
    assert_eq!(feats.data.len(), 128 * 3000);
    assert_eq!(feats.valid_frames, scalar_i64(&fx["short_valid"]));

    let kept = fx["short_frames"].dim(1).unwrap();
    let frames: Vec<usize> = (0..kept).collect();
    let diff = max_abs_diff(&feats.data, &fx["short_frames"], &frames);
    assert!(diff <= TOLERANCE, "max |Δ| over real frames = {diff}");

    let tail = vec1_f32(&fx["short_tail"]);
    for (mel, expected) in tail.iter().enumerate() {
        for frame in kept..N_FRAMES {
            let got = feats.data[mel * N_FRAMES + frame];
            assert!(
                (got - expected).abs() <= TOLERANCE,
                "mel {mel} frame {frame}: {got} vs {expected}"
            );
        }
    }
}

#[test]
fn long_clip_is_cut_at_30_seconds_like_whisper_feature_extractor() {
    let fx = fixture();
    let short = vec1_f32(&fx["short_wave"]);
    let wave: Vec<f32> = std::iter::repeat_n(short.as_slice(), 13)
        .flatten()
        .copied()
        .collect();
    let feats = LogMelExtractor::new(128).unwrap().compute(&wave).unwrap();
    assert_eq!(feats.valid_frames, scalar_i64(&fx["long_valid"]));
    assert_eq!(feats.valid_frames, N_FRAMES);

    let mut frames: Vec<usize> = (0..N_FRAMES).step_by(50).collect();
    frames.push(N_FRAMES - 1);
    let diff = max_abs_diff(&feats.data, &fx["long_frames"], &frames);
    assert!(diff <= TOLERANCE, "max |Δ| = {diff}");
}
