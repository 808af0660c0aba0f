//! Log-mel features exactly as HF `WhisperFeatureExtractor` (numpy path) computes them for
//! Qwen2-Audio: 30 s window, centred reflect-padded STFT, Slaney mel filters, log10,
//! dynamic-range clamp to max − 8, `(x + 4) / 4`, last frame dropped.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::{AudioError, Result};

pub const SAMPLE_RATE: usize = 16_000;
pub const N_FFT: usize = 400;
pub const HOP_LENGTH: usize = 160;
pub const CHUNK_SECONDS: usize = 30;
/// Samples in one model window (30 s).
pub const N_SAMPLES: usize = SAMPLE_RATE * CHUNK_SECONDS;
/// Frames per window after dropping the STFT's last frame.
pub const N_FRAMES: usize = N_SAMPLES / HOP_LENGTH;
const N_FREQ_BINS: usize = N_FFT / 2 + 1;
const MEL_FLOOR: f64 = 1e-10;
const MAX_FREQUENCY_HZ: f64 = 8_000.0;

/// Log-mel features of one clip, laid out `(n_mels, N_FRAMES)` row-major like HF's
/// `input_features[0]`.
#[derive(Debug, Clone)]
pub struct LogMelFeatures {
    pub data: Vec<f32>,
    pub n_mels: usize,
    pub n_frames: usize,
    /// Frames that cover real audio (HF's `feature_attention_mask.sum()`); the rest is padding.
    pub valid_frames: usize,
}

impl LogMelFeatures {
    /// HF's `feature_attention_mask`: 1 for frames covering real samples, 0 for padding.
    pub fn frame_mask(&self) -> Vec<u8> {
        (0..self.n_frames)
            .map(|i| u8::from(i < self.valid_frames))
            .collect()
    }
}

/// One triangular mel filter, stored sparsely over the FFT bins where it is non-zero.
#[derive(Debug, Clone)]
struct MelFilter {
    first_bin: usize,
    weights: Vec<f64>,
}

/// Precomputed window, mel filters and FFT plan; build once, reuse for every clip.
pub struct LogMelExtractor {
    n_mels: usize,
    window: Vec<f64>,
    filters: Vec<MelFilter>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl LogMelExtractor {
    /// `n_mels` is 128 for Qwen2-Audio (Whisper-large-v3).
    pub fn new(n_mels: usize) -> Result<Self> {
        if n_mels == 0 {
            return Err(AudioError::bad("n_mels must be positive"));
        }
        Ok(Self {
            n_mels,
            window: periodic_hann(N_FFT),
            filters: slaney_mel_filters(n_mels),
            fft: RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT),
        })
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Features of 16 kHz mono samples; longer clips are cut at 30 s, shorter ones zero-padded.
    pub fn compute(&self, samples: &[f32]) -> Result<LogMelFeatures> {
        if samples.is_empty() {
            return Err(AudioError::bad("the audio has zero samples"));
        }
        if samples.iter().any(|s| !s.is_finite()) {
            return Err(AudioError::bad(
                "the audio contains NaN or infinite samples",
            ));
        }
        let used = samples.len().min(N_SAMPLES);
        let padded = reflect_pad_window(&samples[..used]);
        let mut log_mel = self.log10_mel_spectrogram(&padded)?;
        normalize_dynamic_range(&mut log_mel);
        Ok(LogMelFeatures {
            data: log_mel,
            n_mels: self.n_mels,
            n_frames: N_FRAMES,
            valid_frames: used.div_ceil(HOP_LENGTH).min(N_FRAMES),
        })
    }

    /// `log10(max(mel, 1e-10))` per (mel, frame), computed in f64 and stored as f32 like numpy.
    fn log10_mel_spectrogram(&self, padded: &[f64]) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.n_mels * N_FRAMES];
        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f64; N_FREQ_BINS];
        for frame_index in 0..N_FRAMES {
            let start = frame_index * HOP_LENGTH;
            for ((dst, &x), &w) in frame
                .iter_mut()
                .zip(&padded[start..start + N_FFT])
                .zip(&self.window)
            {
                *dst = x * w;
            }
            self.fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch)
                .map_err(|e| AudioError::bad(format!("FFT failed: {e}")))?;
            power_spectrum(&spectrum, &mut power);
            for (mel, filter) in self.filters.iter().enumerate() {
                let bins = &power[filter.first_bin..filter.first_bin + filter.weights.len()];
                let energy: f64 = bins.iter().zip(&filter.weights).map(|(p, w)| p * w).sum();
                out[mel * N_FRAMES + frame_index] = energy.max(MEL_FLOOR).log10() as f32;
            }
        }
        Ok(out)
    }
}

fn power_spectrum(spectrum: &[Complex<f64>], power: &mut [f64]) {
    for (p, c) in power.iter_mut().zip(spectrum) {
        *p = c.norm_sqr();
    }
}

/// Clamp to (max − 8) and rescale with `(x + 4) / 4`, in f32 as the extractor does.
fn normalize_dynamic_range(log_mel: &mut [f32]) {
    let max = log_mel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let floor = max - 8.0;
    for x in log_mel.iter_mut() {
        *x = (x.max(floor) + 4.0) / 4.0;
    }
}

/// Zero-pads (or cuts) to 30 s, then reflect-pads `N_FFT / 2` on both sides (numpy "reflect").
fn reflect_pad_window(samples: &[f32]) -> Vec<f64> {
    let half = N_FFT / 2;
    let mut window = vec![0f64; N_SAMPLES];
    for (dst, &s) in window.iter_mut().zip(samples) {
        *dst = f64::from(s);
    }
    let mut padded = Vec::with_capacity(N_SAMPLES + 2 * half);
    padded.extend((1..=half).rev().map(|i| window[i]));
    padded.extend_from_slice(&window);
    padded.extend((1..=half).map(|i| window[N_SAMPLES - 1 - i]));
    padded
}

/// `np.hanning(n + 1)[:-1]`: the periodic Hann window of transformers' `window_function`.
fn periodic_hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect()
}

fn hertz_to_mel_slaney(hz: f64) -> f64 {
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = 15.0;
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() * (27.0 / 6.4f64.ln())
    } else {
        3.0 * hz / 200.0
    }
}

fn mel_to_hertz_slaney(mel: f64) -> f64 {
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = 15.0;
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * ((6.4f64.ln() / 27.0) * (mel - MIN_LOG_MEL)).exp()
    } else {
        200.0 * mel / 3.0
    }
}

/// transformers' `mel_filter_bank(..., norm="slaney", mel_scale="slaney")`, 0–8 kHz.
fn slaney_mel_filters(n_mels: usize) -> Vec<MelFilter> {
    let mel_max = hertz_to_mel_slaney(MAX_FREQUENCY_HZ);
    let edges_hz: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hertz_slaney(mel_max * i as f64 / (n_mels + 1) as f64))
        .collect();
    let nyquist = (SAMPLE_RATE / 2) as f64;
    let bin_hz: Vec<f64> = (0..N_FREQ_BINS)
        .map(|i| nyquist * i as f64 / (N_FREQ_BINS - 1) as f64)
        .collect();
    (0..n_mels)
        .map(|m| {
            let (lower, center, upper) = (edges_hz[m], edges_hz[m + 1], edges_hz[m + 2]);
            let slaney_norm = 2.0 / (upper - lower);
            let dense: Vec<f64> = bin_hz
                .iter()
                .map(|&f| {
                    let down = (f - lower) / (center - lower);
                    let up = (upper - f) / (upper - center);
                    down.min(up).max(0.0) * slaney_norm
                })
                .collect();
            sparse_filter(&dense)
        })
        .collect()
}

fn sparse_filter(dense: &[f64]) -> MelFilter {
    let first = dense.iter().position(|&w| w > 0.0).unwrap_or(0);
    let last = dense.iter().rposition(|&w| w > 0.0).unwrap_or(first);
    MelFilter {
        first_bin: first,
        weights: dense[first..=last].to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_hann_matches_numpy_definition() {
        let w = periodic_hann(4);
        let expected = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in w.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{w:?}");
        }
    }

    #[test]
    fn reflect_padding_mirrors_without_repeating_the_edge() {
        let samples: Vec<f32> = (0..N_SAMPLES).map(|i| (i % 1000) as f32).collect();
        let padded = reflect_pad_window(&samples);
        assert_eq!(padded.len(), N_SAMPLES + N_FFT);
        assert_eq!(padded[199], 1.0);
        assert_eq!(padded[0], 200.0);
        assert_eq!(padded[200], 0.0);
        let last = samples[N_SAMPLES - 2] as f64;
        assert_eq!(padded[N_SAMPLES + 200], last);
    }

    #[test]
    fn slaney_mel_scale_is_linear_below_1khz_and_round_trips() {
        assert!((hertz_to_mel_slaney(500.0) - 7.5).abs() < 1e-12);
        for hz in [0.0, 333.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hertz_slaney(hertz_to_mel_slaney(hz)) - hz).abs() < 1e-9);
        }
    }

    #[test]
    fn empty_and_non_finite_audio_are_rejected_with_e_bad_audio() {
        let extractor = LogMelExtractor::new(128).unwrap();
        assert_eq!(extractor.compute(&[]).unwrap_err().code(), "E_BAD_AUDIO");
        let err = extractor.compute(&[0.0, f32::NAN]).unwrap_err();
        assert_eq!(err.code(), "E_BAD_AUDIO");
    }

    #[test]
    fn valid_frames_count_hop_starts_inside_the_clip() {
        let extractor = LogMelExtractor::new(80).unwrap();
        let feats = extractor.compute(&vec![0.1; 161]).unwrap();
        assert_eq!(feats.valid_frames, 2);
        assert_eq!(&feats.frame_mask()[..3], &[1, 1, 0]);
        let long = extractor.compute(&vec![0.1; N_SAMPLES + 5]).unwrap();
        assert_eq!(long.valid_frames, N_FRAMES);
    }
}
