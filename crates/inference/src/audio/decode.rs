//! Decoding (symphonia), down-mixing and resampling (rubato) to 16 kHz mono `f32`.

use std::io::Cursor;
use std::path::Path;

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use super::{AudioError, Result};

/// Sample rate every model input is converted to.
pub const TARGET_SAMPLE_RATE: u32 = 16_000;

/// Rubato chunk size; a larger chunk gives a sharper anti-aliasing filter.
const RESAMPLER_CHUNK_FRAMES: usize = 1024;

/// Interleaved samples as they come out of the decoder.
struct DecodedAudio {
    interleaved: Vec<f32>,
    channels: usize,
    sample_rate: u32,
}

/// Decoded input past the cut that is still decoded, so the resampler's filter sees what follows
/// the last kept sample (the kept samples then match a whole-file decode).
const CUT_MARGIN_SECONDS: f64 = 0.25;

/// The first seconds of a file as 16 kHz mono, and whether the file went on past them.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedPrefix {
    pub samples: Vec<f32>,
    /// The file is longer than the prefix: the rest was never decoded.
    pub truncated: bool,
}

/// Decodes a WAV/FLAC/MP3/OGG file into 16 kHz mono samples in [-1, 1].
pub fn decode_audio_file(path: &Path) -> Result<Vec<f32>> {
    Ok(decode_file(path, None)?.samples)
}

/// Decodes only the first `max_seconds` of a file (memory and time bounded by that, not by the
/// file's length): what a 30 s model window needs from a 60-minute recording.
pub fn decode_audio_file_prefix(path: &Path, max_seconds: f64) -> Result<DecodedPrefix> {
    decode_file(path, Some(max_seconds))
}

fn decode_file(path: &Path, max_seconds: Option<f64>) -> Result<DecodedPrefix> {
    let file = std::fs::File::open(path)
        .map_err(|e| AudioError::bad(format!("cannot open audio file {}: {e}", path.display())))?;
    let extension = path.extension().and_then(|e| e.to_str());
    decode_source_prefix(Box::new(file), extension, max_seconds)
        .map_err(|e| AudioError::bad(format!("{}: {e}", path.display())))
}

/// Decodes an in-memory WAV/FLAC/MP3/OGG file into 16 kHz mono samples.
/// `extension_hint` (like `"mp3"`) speeds up format detection; the content decides.
pub fn decode_audio_bytes(bytes: Vec<u8>, extension_hint: Option<&str>) -> Result<Vec<f32>> {
    decode_source(Box::new(Cursor::new(bytes)), extension_hint)
}

fn decode_source(source: Box<dyn MediaSource>, extension_hint: Option<&str>) -> Result<Vec<f32>> {
    Ok(decode_source_prefix(source, extension_hint, None)?.samples)
}

fn decode_source_prefix(
    source: Box<dyn MediaSource>,
    extension_hint: Option<&str>,
    max_seconds: Option<f64>,
) -> Result<DecodedPrefix> {
    let (decoded, mut truncated) = decode_interleaved(source, extension_hint, max_seconds)?;
    let mono = mix_to_mono(&decoded.interleaved, decoded.channels);
    let mut samples = resample(&mono, decoded.sample_rate, TARGET_SAMPLE_RATE)?;
    if let Some(seconds) = max_seconds {
        let keep = (seconds * f64::from(TARGET_SAMPLE_RATE)).round() as usize;
        truncated |= samples.len() > keep;
        samples.truncate(keep);
    }
    Ok(DecodedPrefix { samples, truncated })
}

/// The decoded packets; `true` when decoding stopped early at `max_seconds` (plus the margin).
fn decode_interleaved(
    source: Box<dyn MediaSource>,
    extension_hint: Option<&str>,
    max_seconds: Option<f64>,
) -> Result<(DecodedAudio, bool)> {
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = extension_hint {
        hint.with_extension(extension);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| AudioError::bad(format!("unrecognized audio format: {e}")))?;
    read_packets(format.as_mut(), max_seconds.map(|s| s + CUT_MARGIN_SECONDS))
}

fn read_packets(
    format: &mut dyn FormatReader,
    max_seconds: Option<f64>,
) -> Result<(DecodedAudio, bool)> {
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| AudioError::bad("the file has no audio track"))?;
    let track_id = track.id;
    let codec_params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| AudioError::bad("the audio track has no codec parameters"))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(codec_params, &AudioDecoderOptions::default())
        .map_err(|e| AudioError::bad(format!("unsupported audio codec: {e}")))?;

    let mut out = DecodedAudio {
        interleaved: Vec::new(),
        channels: 0,
        sample_rate: 0,
    };
    let mut chunk: Vec<f32> = Vec::new();
    let mut stopped_early = false;
    loop {
        if let Some(seconds) = max_seconds {
            let frames = out.interleaved.len() / out.channels.max(1);
            if out.sample_rate > 0 && frames as f64 >= seconds * f64::from(out.sample_rate) {
                stopped_early = format.next_packet().is_ok_and(|p| p.is_some());
                break;
            }
        }
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            // End of stream, or a chained stream we do not follow.
            Ok(None) | Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(AudioError::bad(format!("cannot read audio: {e}"))),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            // A corrupt packet is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(AudioError::bad(format!("cannot decode audio: {e}"))),
        };
        out.channels = buffer.spec().channels().count();
        out.sample_rate = buffer.spec().rate();
        buffer.copy_to_vec_interleaved(&mut chunk);
        out.interleaved.extend_from_slice(&chunk);
    }
    if out.interleaved.is_empty() || out.channels == 0 || out.sample_rate == 0 {
        return Err(AudioError::bad("the audio decoded to zero samples"));
    }
    Ok((out, stopped_early))
}

/// Averages interleaved channels into one.
pub fn mix_to_mono(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * scale)
        .collect()
}

/// Resamples mono audio with rubato's synchronous FFT resampler (delay trimmed).
pub fn resample(mono: &[f32], rate_in: u32, rate_out: u32) -> Result<Vec<f32>> {
    if mono.is_empty() {
        return Err(AudioError::bad("the audio has zero samples"));
    }
    if rate_in == 0 || rate_out == 0 {
        return Err(AudioError::bad(format!(
            "invalid sample rate {rate_in} -> {rate_out}"
        )));
    }
    if rate_in == rate_out {
        return Ok(mono.to_vec());
    }
    let mut resampler = Fft::<f32>::new(
        rate_in as usize,
        rate_out as usize,
        RESAMPLER_CHUNK_FRAMES,
        1,
        FixedSync::Both,
    )
    .map_err(|e| AudioError::bad(format!("cannot resample {rate_in} Hz audio: {e}")))?;
    let input = InterleavedSlice::new(mono, 1, mono.len())
        .map_err(|e| AudioError::bad(format!("resampler input: {e}")))?;
    let output = resampler
        .process_all(&input, mono.len(), None)
        .map_err(|e| AudioError::bad(format!("resampling failed: {e}")))?;
    Ok(output.take_data())
}
