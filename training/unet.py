"""Conditional U-Net of the healthy-brain inpainting model.

Input: the conditioning channels stacked in the manifest's order
(noisy, known, inpaintMask, brainMask, sliceAbove, sliceBelow), float32 [B, 6, H, W], and the
training timestep index t, float32 [B]. Output: [B, 1, H, W], the prediction the manifest names
(epsilon, v or x0). H and W must be multiples of 2^(levels-1); the network is fully
convolutional, so it runs on the engine's context crops (16..128 px) and on whole 256 slices.

Architecture: DDPM-style residual U-Net (Ho et al. 2020) without attention, sized for a CPU:
GroupNorm + SiLU residual blocks with an additive time embedding, strided-conv downsampling,
nearest-upsample + conv upsampling, skip concatenation. No attention keeps it translation-
equivariant and cheap on small crops.
"""
import math

import torch
from torch import nn

CHANNELS = ["noisy", "known", "inpaintMask", "brainMask", "sliceAbove", "sliceBelow"]


def timestep_embedding(t, dim):
    """Sinusoidal embedding of the timestep index (Ho et al. 2020), computed inside the graph."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


def groups_for(ch):
    for g in (8, 4, 2, 1):
        if ch % g == 0:
            return g
    return 1


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim, dropout=0.0):
        super().__init__()
        self.n1 = nn.GroupNorm(groups_for(cin), cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(tdim, cout)
        self.n2 = nn.GroupNorm(groups_for(cout), cout)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.act = nn.SiLU()
        nn.init.zeros_(self.c2.weight)
        nn.init.zeros_(self.c2.bias)

    def forward(self, x, temb):
        h = self.c1(self.act(self.n1(x))) + self.t(temb)[:, :, None, None]
        h = self.c2(self.drop(self.act(self.n2(h))))
        return h + self.skip(x)


class InpaintUNet(nn.Module):
    """U-Net with `len(mults)` levels; `blocks` residual blocks per encoder level (decoder: blocks)."""

    def __init__(self, in_ch=len(CHANNELS), base=24, mults=(1, 2, 3, 4), blocks=1, dropout=0.0):
        super().__init__()
        self.config = {"in_ch": in_ch, "base": base, "mults": list(mults), "blocks": blocks, "dropout": dropout}
        tdim = base * 4
        self.base = base
        self.time = nn.Sequential(nn.Linear(base, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.inp = nn.Conv2d(in_ch, base, 3, padding=1)
        chans = [base * m for m in mults]
        self.enc = nn.ModuleList()
        self.downs = nn.ModuleList()
        skip_ch = [base]
        c = base
        for i, ch in enumerate(chans):
            level = nn.ModuleList()
            for _ in range(blocks):
                level.append(ResBlock(c, ch, tdim, dropout))
                c = ch
                skip_ch.append(c)
            self.enc.append(level)
            if i < len(chans) - 1:
                self.downs.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
                skip_ch.append(c)
        self.mid = ResBlock(c, c, tdim, dropout)
        self.dec = nn.ModuleList()
        self.ups = nn.ModuleList()
        for i, ch in reversed(list(enumerate(chans))):
            level = nn.ModuleList()
            for _ in range(blocks + 1):
                level.append(ResBlock(c + skip_ch.pop(), ch, tdim, dropout))
                c = ch
            self.dec.append(level)
            if i > 0:
                self.ups.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, padding=1)))
        self.out = nn.Sequential(nn.GroupNorm(groups_for(c), c), nn.SiLU(), nn.Conv2d(c, 1, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)
        self.multiple = 2 ** (len(chans) - 1)

    def forward(self, x, t):
        temb = self.time(timestep_embedding(t, self.base))
        h = self.inp(x)
        skips = [h]
        for i, level in enumerate(self.enc):
            for block in level:
                h = block(h, temb)
                skips.append(h)
            if i < len(self.downs):
                h = self.downs[i](h)
                skips.append(h)
        h = self.mid(h, temb)
        for i, level in enumerate(self.dec):
            for block in level:
                h = block(torch.cat([h, skips.pop()], dim=1), temb)
            if i < len(self.ups):
                h = self.ups[i](h)
        return self.out(h)


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def macs_per_pixel(model):
    """Multiply-accumulates per input pixel of the convolutions (the cost that scales with the image)."""
    total = 0.0
    scale = {"v": 1.0}

    def hook(mod, inp, out):
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total += out.shape[1] * out.shape[2] * out.shape[3] * mod.in_channels * k / mod.groups

    hooks = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    size = 64
    with torch.no_grad():
        model(torch.zeros(1, model.config["in_ch"], size, size), torch.zeros(1))
    for h in hooks:
        h.remove()
    del scale
    return total / (size * size)
