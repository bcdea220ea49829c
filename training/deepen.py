"""Deepen a trained U-Net by one residual block per level without changing what it computes.

A CPU cannot train a larger network from scratch in the time a stage has, but it can keep
training one that starts exactly where the shipped one is. This writes a checkpoint of the
same network with `blocks + 1` residual blocks per level, initialised so that its output is
identical (checked on random inputs before anything is written):

- encoder: the new last block of each level has an identity shortcut and its second
  convolution zeroed (as every fresh ResBlock), so it passes its input through;
- decoder: a level pops one more skip (the new encoder block's output, equal to the block
  before it). The old first block keeps its place and input; the new second block consumes
  the extra skip with its 1x1 shortcut set to select the running features and drop the skip,
  and its second convolution zeroed; the remaining old blocks follow, each again seeing the
  skip it was trained on.

    /usr/bin/python3 training/deepen.py --checkpoint training/runs/hypo2/checkpoint.pt \
        --out training/runs/deep/init.pt
    /usr/bin/python3 training/train.py ... --blocks 2 --init-from training/runs/deep/init.pt

Only the EMA weights (what --init-from and export.py read) are carried over.
"""
import argparse
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import CHANNELS, InpaintUNet, count_params  # noqa: E402


def deepen(old):
    """The deeper network computing what `old` computes."""
    cfg = dict(old.config)
    b = cfg["blocks"]
    cfg["blocks"] = b + 1
    new = InpaintUNet(**cfg)
    with torch.no_grad():
        for name in ("time", "inp", "downs", "mid", "ups", "out"):
            getattr(new, name).load_state_dict(getattr(old, name).state_dict())
        for old_level, new_level in zip(old.enc, new.enc):
            for j in range(b):
                new_level[j].load_state_dict(old_level[j].state_dict())
            # new_level[b] is a fresh ResBlock(ch, ch): identity shortcut, zero second conv.
        for old_level, new_level in zip(old.dec, new.dec):
            new_level[0].load_state_dict(old_level[0].state_dict())
            selector = new_level[1]
            ch = selector.c2.out_channels
            selector.skip.weight.zero_()
            selector.skip.weight[:, :ch, 0, 0] = torch.eye(ch)
            selector.skip.bias.zero_()
            for j in range(1, b + 1):
                new_level[j + 1].load_state_dict(old_level[j].state_dict())
    return new


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    ck = torch.load(args.checkpoint, map_location="cpu")
    old = InpaintUNet(**ck["model_config"])
    old.load_state_dict(ck["ema"])
    old.eval()
    new = deepen(old).eval()
    torch.manual_seed(0)
    worst = 0.0
    with torch.no_grad():
        for size in (32, 64, 128):
            x = torch.randn(3, len(CHANNELS), size, size)
            t = torch.tensor([10.0, 500.0, 990.0])
            worst = max(worst, float((old(x, t) - new(x, t)).abs().max()))
    if worst > 1e-5:
        raise SystemExit(f"the deepened network differs from the original by {worst:.2e}; nothing written")
    info = copy.deepcopy(ck["info"])
    info["deepenedFrom"] = {"checkpoint": args.checkpoint, "blocks": ck["model_config"]["blocks"], "largestDifference": worst}
    out = {"ema": new.state_dict(), "model": new.state_dict(), "model_config": new.config, "prediction": ck["prediction"], "info": info, "step": 0}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(out, args.out)
    print(f"{count_params(old) / 1e6:.2f} M -> {count_params(new) / 1e6:.2f} M parameters, largest output difference {worst:.1e}; wrote {args.out}")


if __name__ == "__main__":
    main()
