"""Audio clips to 16 kHz mono samples, in-process (PyAV wheels bundle FFmpeg and libopus)."""

from __future__ import annotations

import io

import numpy as np

from app.perception.media import MediaError

SAMPLE_RATE = 16000
SILENCE_RMS = 1e-3  # below this the clip holds no speech worth transcribing


def decode(data: bytes, max_seconds: float) -> np.ndarray:
    """float32 samples in [-1, 1] at 16 kHz mono; MediaError for broken, too long or silent clips."""
    import av

    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(f"the audio can't be read ({type(exc).__name__})") from None
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with container:
            if not container.streams.audio:
                raise MediaError("the file has no audio track", "no_audio")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    chunks.append(samples)
                    total += samples.size
                if total > max_seconds * SAMPLE_RATE:
                    raise MediaError(f"the clip is longer than {max_seconds:.0f} seconds", "too_long")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as exc:
        if not chunks:
            raise MediaError(f"the audio can't be decoded ({type(exc).__name__})") from None
        # A truncated clip: keep what decoded.
    audio = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if audio.size < SAMPLE_RATE // 10:
        raise MediaError("the clip is empty or shorter than 0.1 seconds", "too_short")
    if float(np.sqrt(np.mean(audio**2))) < SILENCE_RMS:
        raise MediaError("the clip is silent", "silent")
    return audio


def wav_bytes(samples: np.ndarray) -> bytes:
    """16-bit PCM WAV of 16 kHz mono samples."""
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()
