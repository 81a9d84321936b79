#!/usr/bin/env python3
"""Real recordings with references for the evaluations, kept out of the repo.

- ``audio_samples/real/jfk.flac`` (in the repo): John F. Kennedy's 1961
  inaugural address, 11 s, a US government work in the public domain, as
  used in faster-whisper's tests; its words are in ``jfk.txt``.
- the two-speaker telephone conversation that pyannote.audio ships in its
  wheel (``pyannote/audio/sample/sample.wav`` with ``sample.rttm`` and the
  transcript ``sample.stm``). Its original source is not stated, so it is not
  copied into this repo: this script downloads the pyannote.audio wheel from
  the package index (pip, no model hub) and extracts the three files into
  ``.cache/real_samples/`` when an evaluation asks for them.

    python scripts/real_samples.py        # prints the folder holding them
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "real_samples"
PYANNOTE_WHEEL = "pyannote.audio==4.0.7"


def pyannote_sample() -> Path:
    """Folder with ``sample.wav``, ``sample.rttm``, ``sample.stm`` and ``sample.txt`` (words in order)."""
    wav = CACHE / "sample.wav"
    if wav.is_file():
        return CACHE
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp, PYANNOTE_WHEEL],
            check=True,
        )
        wheel = next(Path(tmp).glob("pyannote_audio-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            for name in ("sample.wav", "sample.rttm", "sample.stm"):
                (CACHE / name).write_bytes(z.read(f"pyannote/audio/sample/{name}"))
    lines = [line.split(maxsplit=5) for line in (CACHE / "sample.stm").read_text().splitlines() if line.strip()]
    (CACHE / "sample.txt").write_text(" ".join(parts[5] for parts in lines if len(parts) == 6) + "\n")
    return CACHE


if __name__ == "__main__":
    print(pyannote_sample())
