"""Golden log-mel features for crates/inference/tests/audio_logmel.rs.

Reference: HF transformers `WhisperFeatureExtractor(feature_size=128)` (numpy path), called the way
`Qwen2AudioProcessor` calls it (padding="max_length", return_attention_mask=True).

Run: /work/tools/ref/bin/python scripts/make_logmel_fixture.py
Writes crates/inference/tests/fixtures/logmel/logmel.safetensors (~0.5 MB):
  short_wave (40000,) f32            2.5 s clip: chirp, silence, noise bursts
  short_frames (128, K) f32          features of the first K = valid+8 frames
  short_tail (128,) f32              the constant value of every later (padding) frame
  short_valid, long_valid (1,) i64   feature_attention_mask.sum()
  long_frames (128, 61) f32          a 32.5 s clip (short_wave tiled 13x), every 50th frame + the last
and tone.{wav,flac,ogg,mp3} (libsndfile via soundfile): 0.5 s stereo 22.05 kHz 440 Hz tone, left
amplitude 0.5, right 0.3 (mono mix 0.4), for the decode tests in audio_decode.rs.
"""

import pathlib

import numpy as np
import soundfile
import transformers
from safetensors.numpy import save_file
from transformers import WhisperFeatureExtractor

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/inference/tests/fixtures/logmel"
SR = 16000
LONG_TILES = 13
LONG_STRIDE = 50


def short_wave() -> np.ndarray:
    rng = np.random.default_rng(1234)
    t = np.arange(SR) / SR
    chirp = 0.5 * np.sin(2 * np.pi * (200 * t + 1900 * t * t))
    silence = np.zeros(SR // 2)
    noise = rng.normal(0, 0.1, SR) * (np.sin(2 * np.pi * 3 * np.arange(SR) / SR) > 0)
    return np.concatenate([chirp, silence, noise]).astype(np.float32)


def features(extractor, wave):
    out = extractor(
        wave, sampling_rate=SR, padding="max_length", return_attention_mask=True, return_tensors="np"
    )
    return out["input_features"][0].astype(np.float32), int(out["attention_mask"][0].sum())


def write_tones():
    rate = 22050
    t = np.arange(rate // 2) / rate
    tone = np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([0.5 * tone, 0.3 * tone], axis=1).astype(np.float32)
    for ext, subtype in [("wav", "PCM_16"), ("flac", "PCM_16"), ("ogg", "VORBIS"), ("mp3", "MPEG_LAYER_III")]:
        soundfile.write(OUT / f"tone.{ext}", stereo, rate, subtype=subtype)


def main():
    extractor = WhisperFeatureExtractor(feature_size=128)
    wave = short_wave()
    short, short_valid = features(extractor, wave)
    keep = short_valid + 8
    tail = short[:, keep:]
    assert np.all(tail == tail[:, :1]), "padding frames are expected to be constant per mel bin"

    long, long_valid = features(extractor, np.tile(wave, LONG_TILES))
    picks = list(range(0, long.shape[1], LONG_STRIDE)) + [long.shape[1] - 1]

    OUT.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "short_wave": wave,
            "short_frames": np.ascontiguousarray(short[:, :keep]),
            "short_tail": np.ascontiguousarray(tail[:, 0]),
            "short_valid": np.array([short_valid], dtype=np.int64),
            "long_frames": np.ascontiguousarray(long[:, picks]),
            "long_valid": np.array([long_valid], dtype=np.int64),
        },
        OUT / "logmel.safetensors",
        metadata={"reference": f"transformers {transformers.__version__} WhisperFeatureExtractor(128)"},
    )
    write_tones()
    print("short valid", short_valid, "long valid", long_valid, "frames kept", keep, len(picks))


if __name__ == "__main__":
    main()
