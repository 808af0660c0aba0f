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

/// Decodes a WAV/FLAC/MP3/OGG file into 16 kHz mono samples in [-1, 1].
pub fn decode_audio_file(path: &Path) -> Result<Vec<f32>> {
    let file = std::fs::File::open(path)
        .map_err(|e| AudioError::bad(format!("cannot open audio file {}: {e}", path.display())))?;
    let extension = path.extension().and_then(|e| e.to_str());
    decode_source(Box::new(file), extension)
        .map_err(|e| AudioError::bad(format!("{}: {e}", path.display())))
}

/// Decodes an in-memory WAV/FLAC/MP3/OGG file into 16 kHz mono samples.
/// `extension_hint` (like `"mp3"`) speeds up format detection; the content decides.
pub fn decode_audio_bytes(bytes: Vec<u8>, extension_hint: Option<&str>) -> Result<Vec<f32>> {
    decode_source(Box::new(Cursor::new(bytes)), extension_hint)
}

fn decode_source(source: Box<dyn MediaSource>, extension_hint: Option<&str>) -> Result<Vec<f32>> {
    let decoded = decode_interleaved(source, extension_hint)?;
    let mono = mix_to_mono(&decoded.interleaved, decoded.channels);
    resample(&mono, decoded.sample_rate, TARGET_SAMPLE_RATE)
}

fn decode_interleaved(
    source: Box<dyn MediaSource>,
    extension_hint: Option<&str>,
) -> Result<DecodedAudio> {
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
    read_all_packets(format.as_mut())
}

fn read_all_packets(format: &mut dyn FormatReader) -> Result<DecodedAudio> {
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
    loop {
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
    Ok(out)
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
