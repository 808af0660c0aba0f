//! Decode + mono mix + resample to 16 kHz, on tones written by libsndfile
//! (`scripts/make_logmel_fixture.py`): 0.5 s, stereo, 22.05 kHz, 440 Hz, left 0.5 / right 0.3.

use std::path::{Path, PathBuf};

use opt_native_inference::audio::{decode_audio_bytes, decode_audio_file, LogMelExtractor};

const TONE_HZ: f64 = 440.0;
const MONO_AMPLITUDE: f64 = 0.4;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/logmel")
        .join(name)
}

/// Amplitude and phase-free fit of a 440 Hz sinusoid over the middle of the clip.
fn tone_amplitude(samples: &[f32]) -> f64 {
    let mid = &samples[samples.len() / 4..samples.len() * 3 / 4];
    let (mut sin_sum, mut cos_sum) = (0.0, 0.0);
    for (i, &x) in mid.iter().enumerate() {
        let phase = 2.0 * std::f64::consts::PI * TONE_HZ * i as f64 / 16_000.0;
        sin_sum += f64::from(x) * phase.sin();
        cos_sum += f64::from(x) * phase.cos();
    }
    2.0 * (sin_sum * sin_sum + cos_sum * cos_sum).sqrt() / mid.len() as f64
}

/// Phase of the 440 Hz component relative to a sine starting at sample 0 of the clip.
fn tone_phase(samples: &[f32]) -> f64 {
    let (mut sin_sum, mut cos_sum) = (0.0, 0.0);
    for (i, &x) in samples.iter().enumerate().skip(2000).take(4000) {
        let phase = 2.0 * std::f64::consts::PI * TONE_HZ * i as f64 / 16_000.0;
        sin_sum += f64::from(x) * phase.sin();
        cos_sum += f64::from(x) * phase.cos();
    }
    cos_sum.atan2(sin_sum)
}

fn residual_rms(samples: &[f32], amplitude: f64) -> f64 {
    let energy: f64 = samples[samples.len() / 4..samples.len() * 3 / 4]
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        / (samples.len() / 2) as f64;
    (energy - amplitude * amplitude / 2.0).abs().sqrt()
}

#[test]
fn wav_is_mixed_to_mono_and_resampled_to_16k_with_delay_trimmed() {
    let samples = decode_audio_file(&fixture("tone.wav")).unwrap();
    assert_eq!(samples.len(), 8000);
    let amplitude = tone_amplitude(&samples);
    assert!(
        (amplitude - MONO_AMPLITUDE).abs() < 2e-3,
        "amplitude {amplitude}"
    );
    // An untrimmed resampler delay (tens of samples) would show as a phase shift: one output
    // sample is 0.17 rad at 440 Hz. rubato's FFT resampler leaves a sub-sample offset
    // (~0.06 rad, about a third of a sample), which is harmless for features.
    let phase = tone_phase(&samples);
    assert!(phase.abs() < 0.1, "phase {phase} rad");
    let worst = samples[2000..6000]
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let t = (i + 2000) as f64 / 16_000.0;
            let ideal = MONO_AMPLITUDE * (2.0 * std::f64::consts::PI * TONE_HZ * t + phase).sin();
            (f64::from(x) - ideal).abs()
        })
        .fold(0.0, f64::max);
    assert!(worst < 5e-3, "max deviation from the ideal tone {worst}");
}

#[test]
fn flac_ogg_and_mp3_decode_to_the_same_tone() {
    for name in ["tone.flac", "tone.ogg", "tone.mp3"] {
        let samples = decode_audio_file(&fixture(name)).unwrap();
        // Lossy codecs add encoder padding; the length stays within a frame or two of 0.5 s.
        assert!(
            (7900..=9200).contains(&samples.len()),
            "{name}: {} samples",
            samples.len()
        );
        let amplitude = tone_amplitude(&samples);
        assert!(
            (amplitude - MONO_AMPLITUDE).abs() < 0.03,
            "{name}: amplitude {amplitude}"
        );
        assert!(
            residual_rms(&samples, amplitude) < 0.05,
            "{name}: not a clean tone"
        );
    }
}

#[test]
fn bytes_and_file_paths_decode_identically() {
    let path = fixture("tone.flac");
    let from_bytes = decode_audio_bytes(std::fs::read(&path).unwrap(), None).unwrap();
    assert_eq!(from_bytes, decode_audio_file(&path).unwrap());
}

#[test]
fn garbage_empty_and_missing_audio_fail_with_e_bad_audio() {
    let garbage = decode_audio_bytes(b"definitely not audio, just text".repeat(50), None);
    assert_eq!(garbage.unwrap_err().code(), "E_BAD_AUDIO");

    let wav = std::fs::read(fixture("tone.wav")).unwrap();
    let mut header_only = wav[..44].to_vec();
    header_only[40..44].copy_from_slice(&0u32.to_le_bytes());
    let empty = decode_audio_bytes(header_only, Some("wav"));
    assert_eq!(empty.unwrap_err().code(), "E_BAD_AUDIO");

    let missing = decode_audio_file(Path::new("/nonexistent/clip.wav"));
    assert_eq!(missing.unwrap_err().code(), "E_BAD_AUDIO");
}

/// Real recordings (not committed): `OPT_NATIVE_AUDIO_SMOKE_DIR=/tmp/debaudio/x cargo test
/// --release -p opt-native-inference --test audio_decode -- --ignored`.
#[test]
#[ignore = "needs OPT_NATIVE_AUDIO_SMOKE_DIR with real recordings"]
fn real_recordings_decode_and_featurize() {
    let root = PathBuf::from(std::env::var("OPT_NATIVE_AUDIO_SMOKE_DIR").unwrap());
    let extractor = LogMelExtractor::new(128).unwrap();
    let mut checked = 0;
    for path in walk(&root) {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["wav", "oga", "ogg", "flac", "mp3"].contains(&ext) {
            continue;
        }
        let samples =
            decode_audio_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let feats = extractor.compute(&samples).unwrap();
        assert!(feats.valid_frames > 0 && feats.data.iter().all(|x| x.is_finite()));
        checked += 1;
    }
    assert!(checked > 0, "no audio under {}", root.display());
    eprintln!("decoded and featurized {checked} recordings");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A 16-bit mono WAV of a 440 Hz tone, `seconds` long at `rate` Hz.
fn write_tone_wav(path: &Path, rate: u32, seconds: u32) {
    let frames = rate * seconds;
    let mut bytes = Vec::with_capacity(44 + 2 * frames as usize);
    let data_len = 2 * frames;
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&(2 * rate).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes());
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        let t = f64::from(i) / f64::from(rate);
        let sample = (0.4 * (2.0 * std::f64::consts::PI * TONE_HZ * t).sin() * 32767.0) as i16;
        bytes.extend_from_slice(&sample.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_long_file_is_decoded_only_up_to_the_window_and_says_so() {
    use opt_native_inference::audio::decode_audio_file_prefix;
    let dir = std::env::temp_dir().join(format!("opt-native-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 22.05 kHz so the resampler runs; 5 minutes, of which 30 s are needed.
    let long = dir.join("long.wav");
    write_tone_wav(&long, 22_050, 300);
    let prefix = decode_audio_file_prefix(&long, 30.0).unwrap();
    assert!(prefix.truncated);
    assert_eq!(prefix.samples.len(), 30 * 16_000);
    // The kept samples are those of a whole-file decode (the margin feeds the resampler's filter).
    let whole = decode_audio_file(&long).unwrap();
    assert!(whole.len() >= 299 * 16_000);
    let max_diff = prefix
        .samples
        .iter()
        .zip(&whole)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        max_diff < 1e-4,
        "prefix differs from the whole decode by {max_diff}"
    );
    // A clip shorter than the window is decoded whole and not marked.
    let short = dir.join("short.wav");
    write_tone_wav(&short, 22_050, 10);
    let short_prefix = decode_audio_file_prefix(&short, 30.0).unwrap();
    assert!(!short_prefix.truncated);
    assert_eq!(short_prefix.samples, decode_audio_file(&short).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}
