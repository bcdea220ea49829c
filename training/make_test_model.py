#!/usr/bin/python3
"""Generate ONNX models for the inpainting engine's tests and benchmarks.

Two kinds, both conditional noise-prediction networks with the engine's I/O contract
(see src/main/core/inpaint/manifest.ts):

  input  "x": float32 [batch, C, height, width], the conditioning channels in manifest order
  input  "t": float32 [batch], the training timestep index (0 .. T-1)
  output "eps": float32 [batch, 1, height, width], the predicted noise

* ``tiny`` (default): a few convolutions with random weights, a couple of kB, checked in at
  models/test-tiny/ so unit tests exercise the real ONNX path on the CPU in milliseconds. It
  has learned nothing; it only has to be shape- and dtype-correct.
* ``unet``: a DDPM-style U-Net (ResBlocks with GroupNorm, SiLU, time embedding; no attention)
  of the size the shipped model is expected to have. Random weights: it stands in for the real
  model's FLOPs when timing the fast preset (bench/inpaint.ts) before the trained model exists.

Both are written with a manifest (model.json) whose sha256 matches the written file.
Run with Debian's torch (CPU):  /usr/bin/python3 training/make_test_model.py [--kind tiny|unet] --out DIR
"""
import argparse
import hashlib
import json
import math
import os

import torch
from torch import nn

CHANNELS = ["noisy", "known", "inpaintMask", "brainMask", "sliceAbove", "sliceBelow"]
TRAINING_STEPS = 1000


def timestep_embedding(t, dim):
    """Sinusoidal embedding of the timestep index (Ho et al. 2020), computed inside the graph."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class TinyEpsNet(nn.Module):
    """Two-level conv net: enough structure (a downsample, a skip, a time bias) to behave like a U-Net."""

    def __init__(self, in_ch=len(CHANNELS), width=8):
        super().__init__()
        self.width = width
        self.time = nn.Linear(16, width)
        self.inp = nn.Conv2d(in_ch, width, 3, padding=1)
        self.down = nn.Conv2d(width, width, 3, stride=2, padding=1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.out = nn.Conv2d(2 * width, 1, 3, padding=1)
        self.act = nn.SiLU()

    def forward(self, x, t):
        temb = self.time(timestep_embedding(t, 16))[:, :, None, None]
        h0 = self.act(self.inp(x) + temb)
        h1 = self.act(self.mid(self.act(self.down(h0))))
        return self.out(torch.cat([h0, self.up(h1)], dim=1))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim):
        super().__init__()
        self.n1 = nn.GroupNorm(min(8, cin), cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(tdim, cout)
        self.n2 = nn.GroupNorm(min(8, cout), cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x, temb):
        h = self.c1(self.act(self.n1(x))) + self.t(temb)[:, :, None, None]
        h = self.c2(self.act(self.n2(h)))
        return h + self.skip(x)


class UNet(nn.Module):
    """Plain DDPM U-Net without attention; one ResBlock per level and per decoder stage."""

    def __init__(self, in_ch=len(CHANNELS), base=32, mults=(1, 2, 4, 4)):
        super().__init__()
        tdim = base * 4
        self.base = base
        self.time = nn.Sequential(nn.Linear(base, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.inp = nn.Conv2d(in_ch, base, 3, padding=1)
        chans = [base * m for m in mults]
        self.enc = nn.ModuleList()
        self.downs = nn.ModuleList()
        c = base
        for i, ch in enumerate(chans):
            self.enc.append(ResBlock(c, ch, tdim))
            c = ch
            if i < len(chans) - 1:
                self.downs.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        self.mid = ResBlock(c, c, tdim)
        self.dec = nn.ModuleList()
        self.ups = nn.ModuleList()
        for i, ch in reversed(list(enumerate(chans))):
            self.dec.append(ResBlock(c + ch, ch, tdim))
            c = ch
            if i > 0:
                self.ups.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, padding=1)))
        self.out = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, 1, 3, padding=1))
        self.multiple = 2 ** (len(chans) - 1)

    def forward(self, x, t):
        temb = self.time(timestep_embedding(t, self.base))
        h = self.inp(x)
        skips = []
        for i, block in enumerate(self.enc):
            h = block(h, temb)
            skips.append(h)
            if i < len(self.downs):
                h = self.downs[i](h)
        h = self.mid(h, temb)
        for i, block in enumerate(self.dec):
            h = block(torch.cat([h, skips.pop()], dim=1), temb)
            if i < len(self.ups):
                h = self.ups[i](h)
        return self.out(h)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def export(model, path, size):
    model.eval()
    x = torch.zeros(2, len(CHANNELS), size, size)
    t = torch.tensor([10.0, 500.0])
    torch.onnx.export(
        model,
        (x, t),
        path,
        input_names=["x", "t"],
        output_names=["eps"],
        dynamic_axes={"x": {0: "batch", 2: "height", 3: "width"}, "t": {0: "batch"}, "eps": {0: "batch", 2: "height", 3: "width"}},
        opset_version=13,
        do_constant_folding=True,
    )


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=["tiny", "unet"], default="tiny")
    ap.add_argument("--out", default=None, help="output folder (default models/test-tiny for tiny)")
    ap.add_argument("--id", default=None)
    ap.add_argument("--base", type=int, default=32, help="U-Net base width")
    ap.add_argument("--mults", default="1,2,4,4", help="U-Net channel multipliers per level")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    if args.kind == "tiny":
        model = TinyEpsNet()
        model_id = args.id or "test-tiny"
        multiple = 8
        description = "Tiny random-weight conditional noise predictor for the engine's unit tests. It has learned nothing."
        architecture = "2-level conv net, width 8, sinusoidal time embedding"
    else:
        mults = tuple(int(m) for m in args.mults.split(","))
        model = UNet(base=args.base, mults=mults)
        model_id = args.id or f"timing-unet-b{args.base}"
        multiple = model.multiple
        description = "Random-weight U-Net with the size and FLOPs expected of the shipped model; for timing only."
        architecture = f"DDPM U-Net, base {args.base}, mults {list(mults)}, 1 ResBlock per level, no attention"
    out = args.out or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", model_id)
    os.makedirs(out, exist_ok=True)
    onnx_path = os.path.join(out, "model.onnx")
    export(model, onnx_path, 32)
    params = count_params(model)

    manifest = {
        "schemaVersion": 1,
        "id": model_id,
        "version": "0.0.1",
        "kind": "inpainting",
        "file": "model.onnx",
        "sha256": sha256(onnx_path),
        "io": {
            "inputs": {
                "condition": {"name": "x", "shape": ["batch", len(CHANNELS), "height", "width"], "dtype": "float32"},
                "timestep": {"name": "t", "shape": ["batch"], "dtype": "float32"},
            },
            "output": {"name": "eps", "shape": ["batch", 1, "height", "width"], "dtype": "float32"},
        },
        "conditioning": {"channels": CHANNELS, "knownFill": 0, "missingSliceFill": 0},
        "imageSize": {"mode": "fullyConvolutional", "multiple": multiple, "trainedSize": 256, "minSize": multiple * 2},
        "intensity": {"window": {"centerHu": 40, "widthHu": 80}, "windowedRange": [0, 1], "networkRange": [-1, 1]},
        "schedule": {"type": "linear", "betaStart": 0.0001, "betaEnd": 0.02, "trainingSteps": TRAINING_STEPS, "variance": "fixedSmall"},
        "prediction": "epsilon",
        "card": {
            "description": description,
            "architecture": architecture,
            "parameters": params,
            "trainingData": "none (random weights)",
            "metrics": {},
            "intendedUse": "Software tests and benchmarks of the inpainting engine only. Not for analysis.",
            "hardware": "none",
            "trainingTime": "none",
            "generatedBy": "training/make_test_model.py --kind " + args.kind,
        },
    }
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(f"{model_id}: {params} parameters, {os.path.getsize(onnx_path)} bytes -> {out}")


if __name__ == "__main__":
    main()
