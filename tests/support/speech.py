"""Synthesized speech (espeak-ng) in the containers browsers and phones send, for tests and bench/asr.py."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

# container → (PyAV format, codec, sample rate)
CONTAINERS = {
    "wav": ("wav", "pcm_s16le", 16000),
    "ogg": ("ogg", "libopus", 48000),
    "webm": ("webm", "libopus", 48000),
    "m4a": ("mp4", "aac", 44100),
    "mp3": ("mp3", "libmp3lame", 44100),
    # What phones send: voice memos and messaging apps.
    "flac": ("flac", "flac", 16000),
    "aac": ("adts", "aac", 44100),
    "amr": ("amr", "libopencore_amrnb", 8000),
    "3gp": ("3gp", "libopencore_amrnb", 8000),
}


def speak(text: str, voice: str = "en-us", speed: int = 150) -> bytes:
    """WAV bytes of espeak-ng saying the text (apt-get install espeak-ng)."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed: apt-get install espeak-ng")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text], check=True)
        return out.read_bytes()


def samples_of(wav: bytes) -> tuple[np.ndarray, int]:
    with av.open(io.BytesIO(wav)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray() for f in container.decode(stream)]
        return np.concatenate(frames, axis=1)[0], stream.rate


def encode(wav: bytes, container: str) -> bytes:
    """Re-encode a WAV into one of CONTAINERS, as a browser (webm/ogg opus) or a phone (m4a) would send it."""
    fmt, codec, rate = CONTAINERS[container]
    samples, source_rate = samples_of(wav)
    if samples.dtype != np.int16:
        samples = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = source_rate
        for resampled in resampler.resample(frame) + resampler.resample(None):
            resampled.pts = None  # let the encoder number the frames: the MP4 muxer wants them strictly rising
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()
