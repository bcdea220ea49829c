#!/usr/bin/python3
"""Export a trained checkpoint (its EMA weights) to ONNX with the engine's manifest.

    /usr/bin/python3 training/export.py --checkpoint training/runs/main/checkpoint.pt --out models/healthy-brain-ddpm

Writes <out>/model.onnx (dynamic batch, height and width; float32), <out>/model.json (the manifest
of src/main/core/inpaint/manifest.ts with sha256 and model card) and <out>/parity/ (inputs and the
PyTorch outputs for training/parity.ts, which runs the ONNX file through the app's own ONNX
Runtime loader and compares). `--random CONFIG_JSON` exports an untrained network of that
configuration instead (for timing the engine before training).
The card's measured metrics are filled later by training/evaluate.ts (--write-card).
"""
import argparse
import hashlib
import json
import os
import time

import numpy as np
import torch

from data import LESION_HYPODENSE_SHARE
from diffusion import SCHEDULE, Diffusion
from onnx_fixups import apply as apply_fixups
from stages import training_stages
from unet import CHANNELS, InpaintUNet, count_params, macs_per_pixel
from units import NETWORK_RANGE, WINDOWED_RANGE

OPSET = 13


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_checkpoint(path):
    ckpt = torch.load(path, map_location="cpu")
    model = InpaintUNet(**ckpt["model_config"])
    model.load_state_dict(ckpt["ema"])
    model.eval()
    return model, ckpt


def export_onnx(model, path):
    x = torch.zeros(2, len(CHANNELS), 32, 32)
    t = torch.tensor([10.0, 500.0])
    torch.onnx.export(
        model,
        (x, t),
        path,
        input_names=["x", "t"],
        output_names=["prediction"],
        dynamic_axes={"x": {0: "batch", 2: "height", 3: "width"}, "t": {0: "batch"}, "prediction": {0: "batch", 2: "height", 3: "width"}},
        opset_version=OPSET,
        do_constant_folding=True,
    )
    # So that every ONNX Runtime provider computes the same function (see onnx_fixups.py).
    apply_fixups(path)


def write_parity_fixture(model, out_dir, seed=7):
    """Inputs of the sizes the engine uses (crops and a whole slice) and PyTorch's outputs."""
    os.makedirs(out_dir, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    cases = []
    for i, (batch, size, t) in enumerate([(4, 16, 166), (3, 48, 332), (2, 128, 499), (1, 256, 999), (2, 64, 0)]):
        x = torch.randn(batch, len(CHANNELS), size, size, generator=g)
        x[:, 2:4] = (x[:, 2:4] > 0).float()  # mask channels are 0/1
        x[:, 1] = x[:, 1].clamp(-1, 1)
        tt = torch.full((batch,), float(t))
        with torch.no_grad():
            y = model(x, tt)
        name = f"case{i}"
        x.numpy().astype("<f4").tofile(os.path.join(out_dir, f"{name}.x.f32"))
        tt.numpy().astype("<f4").tofile(os.path.join(out_dir, f"{name}.t.f32"))
        y.numpy().astype("<f4").tofile(os.path.join(out_dir, f"{name}.y.f32"))
        cases.append({"name": name, "x": [batch, len(CHANNELS), size, size], "t": t, "y": [batch, 1, size, size]})
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump({"cases": cases, "torch": torch.__version__}, f, indent=2)


def seed_ranges(names):
    """'seed-1000'.. names -> '1000-1099, 1101' (other names are counted)."""
    seeds = sorted(int(n.split("-", 1)[1]) for n in names if n.startswith("seed-") and n.split("-", 1)[1].isdigit())
    others = len(names) - len(seeds)
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(f"{seeds[i]}-{seeds[j]}" if j > i else str(seeds[i]))
        i = j + 1
    return ", ".join(parts) + (f" (+{others} other subjects)" if others else "")


def training_card(info, prediction):
    a = info.get("args", {})
    stages = training_stages(info)
    hours = sum(st["trainingSeconds"] for st in stages) / 3600
    steps = sum(st["steps"] for st in stages)
    hide = bool(a.get("hide_neighbours"))
    last = (info.get("validation") or [{}])[-1]
    return {
        "description": (
            "Conditional denoising diffusion model that repaints masked regions of brain-windowed 256x256 head CT "
            "slices as healthy tissue, conditioned on the known image outside the mask, the inpainting mask, the brain "
            f"mask and the slices above and below ({prediction}-prediction, linear schedule of 1000 steps)"
            + ("; the slices above and below are hidden inside the mask like the slice itself, so a lesion that spans "
               "slices cannot be copied into its own repainting. " if hide else ". ")
            + "SMALLER CPU CONFIGURATION: trained for a short time on a shared 2-core CPU without a GPU; retrain on a GPU "
            "with training/README.md for a stronger model."
        ),
        "trainingData": (
            f"Healthy synthetic head CT phantoms only (src/main/core/synth, generated by scripts/gen-training-data.ts at "
            f"512x512 x 36 x 5 mm and preprocessed by the app: classical brain extraction, brain window 40/80 HU to [0, 1], "
            f"512 frame, area resize to 256). Training: {len(info.get('trainSubjects', []))} subjects, phantom seeds "
            f"{seed_ranges(info.get('trainSubjects', []))}, {info.get('trainSlices', 0)} slices with brain"
            + (" (subjects joined the run as the generator produced them)" if a.get("rescan_every") else "")
            + ". Validation, "
            f"held out by subject: seeds {seed_ranges(info.get('valSubjects', []))}. Seeds below 1000 and from 5000 up "
            "(benchmarks and evaluation) were never used. No patient data."
        ),
        "metrics": {
            "validation": {
                "step": last.get("step"),
                "loss": last.get("loss"),
                "oneStepMae255": last.get("mae255"),
                **({"fillStartMae255": last["fillMae255"]} if "fillMae255" in last else {}),
                "note": "held-out subjects; loss = mean squared error of the prediction target on the hole; "
                + ("fillStartMae255 = the same for the fast preset's problem (the hole's linear fill noised to t = 500); " if "fillMae255" in last else "")
                + "oneStepMae255 = MAE (0-255 brain window) of the single-step clean-image estimate in the hole at "
                "t = 166, 332, 499, averaged over the crop layouts and the whole slice",
            }
        },
        "intendedUse": (
            "Research use: healthy-appearance inpainting for anomaly detection in non-contrast brain CT in this "
            "workstation, and filling masked regions. Trained on synthetic data only: not validated on patients, not a "
            "medical device; every finding needs a radiologist."
        ),
        "limitations": [
            f"Smaller CPU configuration: a {info.get('parameters', 0) / 1e6:.2f} M-parameter network trained for {hours:.1f} h "
            "on a 2-core CPU; a GPU run of the same code (training/README.md) should do better.",
            "Synthetic training data only: real scans have anatomy, noise texture, beam hardening and pathology-free "
            "variants the phantoms lack. Retrain or fine-tune on real healthy CT before drawing conclusions on patients.",
            "The phantoms' acquisition noise cannot be predicted from the surroundings, so every inpainter (and even the "
            "noise-free truth, see training/noise-floor.ts) scores a low SSIM inside the squares; SSIM there mostly "
            "measures noise, and MAE has a floor of about 10 on the 0-255 scale.",
            "The fast preset takes a single DDIM step from t = 500, started from the hole's linear fill noised to that "
            "step: the model's estimate of the clean image, a conditional mean, not a sample. "
            + (f"{round(100 * a['fill_start'])}% of the training examples posed exactly that problem (--fill-start)." if a.get("fill_start") else "Training did not pose that problem explicitly (--fill-start 0)."),
        ],
        "hardware": "; ".join(f"{hw} ({sum(st['steps'] for st in stages if st.get('hardware') == hw)} steps)" for hw in dict.fromkeys(st.get("hardware") or "unknown" for st in stages))
        if len(stages) > 1 else info.get("hardware", "unknown"),
        "trainingTime": f"{hours:.2f} h of training steps (wall time, validation excluded), {steps} steps"
        + (f" in {len(stages)} stages ({' + '.join(str(st['steps']) for st in stages)}, each continuing from the last one's weights)" if len(stages) > 1 else ""),
        "training": {
            "steps": steps,
            "pixelsPerStep": a.get("pixels_per_step"),
            "layoutMix": a.get("mix"),
            "fastBandFraction": a.get("t_focus"),
            "fillStartFraction": a.get("fill_start", 0),
            "trainingSeconds": round(hours * 3600),
            "stages": stages,
            "optimizer": f"AdamW lr {a.get('lr')} (warm-up {a.get('warmup')} steps, cosine to 10%), grad clip 1.0",
            "ema": a.get("ema"),
            "seed": a.get("seed"),
            "loss": "mean squared error of the prediction target over the inpainted pixels",
            "augmentation": "left-right flips; 5% of neighbour slices dropped (as at the ends of a stack)"
            + (f"; in {round(100 * a['lesion_neighbours'])}% of the examples a synthetic lesion painted into the slices above and below "
               f"(and, in half of those, around the hole; {round(100 * a.get('lesion_hypodense', LESION_HYPODENSE_SHARE))}% of them hypodense) "
               "while the truth stayed healthy (--lesion-neighbours)" if a.get("lesion_neighbours") else "")
            + ("; the neighbour slices blanked inside the hole (--hide-neighbours)" if hide else ""),
            "generatedBy": "training/train.py + training/export.py",
        },
    }


def manifest_for(model_id, version, onnx_path, prediction, multiple, card, neighbour_slices_in_hole="shown"):
    return {
        "schemaVersion": 1,
        "id": model_id,
        "version": version,
        "kind": "inpainting",
        "file": os.path.basename(onnx_path),
        "sha256": sha256(onnx_path),
        "io": {
            "inputs": {
                "condition": {"name": "x", "shape": ["batch", len(CHANNELS), "height", "width"], "dtype": "float32"},
                "timestep": {"name": "t", "shape": ["batch"], "dtype": "float32"},
            },
            "output": {"name": "prediction", "shape": ["batch", 1, "height", "width"], "dtype": "float32"},
        },
        "conditioning": {"channels": CHANNELS, "knownFill": 0, "missingSliceFill": 0, "neighbourSlicesInHole": neighbour_slices_in_hole},
        "imageSize": {"mode": "fullyConvolutional", "multiple": multiple, "trainedSize": 256, "minSize": max(16, multiple * 2)},
        "intensity": {"window": {"centerHu": 40, "widthHu": 80}, "windowedRange": list(WINDOWED_RANGE), "networkRange": list(NETWORK_RANGE)},
        "schedule": dict(SCHEDULE),
        "prediction": prediction,
        "card": card,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint")
    ap.add_argument("--random", help="JSON model config for an untrained export, e.g. '{\"base\":24}'")
    ap.add_argument("--prediction", default="v", help="with --random: the prediction type to declare")
    ap.add_argument("--out", required=True)
    ap.add_argument("--id", default="healthy-brain-ddpm")
    ap.add_argument("--version", default="1.0.0")
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    if args.checkpoint:
        model, ckpt = load_checkpoint(args.checkpoint)
        prediction = ckpt["prediction"]
        info = ckpt.get("info", {})
    elif args.random:
        torch.manual_seed(0)
        model = InpaintUNet(**json.loads(args.random))
        for p in model.parameters():  # untrained but not degenerate (zero-initialised outputs)
            if p.dim() > 1 and float(p.abs().sum()) == 0:
                torch.nn.init.normal_(p, std=0.02)
        model.eval()
        prediction = args.prediction
        info = {"untrained": True}
    else:
        ap.error("give --checkpoint or --random")

    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "model.onnx")
    started = time.time()
    export_onnx(model, onnx_path)
    write_parity_fixture(model, os.path.join(args.out, "parity") if not args.checkpoint else os.path.join(os.path.dirname(os.path.abspath(args.checkpoint)), "parity"))
    cfg = model.config
    params = count_params(model)
    arch = (
        f"conditional U-Net (DDPM-style residual blocks, GroupNorm, SiLU, sinusoidal time embedding, no attention); "
        f"base width {cfg['base']}, channel multipliers {cfg['mults']}, {cfg['blocks']} residual block(s) per level, "
        f"{len(cfg['mults'])} levels; {macs_per_pixel(model) / 1e3:.0f} k multiply-adds per pixel"
    )
    card = training_card(info, prediction) if args.checkpoint else {
        "description": "Untrained network of the shipped architecture; for timing only.",
        "trainingData": "none (random weights)",
        "metrics": {},
        "intendedUse": "Timing of the inpainting engine only. Not for analysis.",
        "hardware": "none",
        "trainingTime": "none",
    }
    # modelConfig lets from_onnx.py rebuild the network to fine-tune the shipped file.
    card = {**card, "architecture": arch, "parameters": params, "modelConfig": {k: cfg[k] for k in ("base", "mults", "blocks")}}
    hidden = bool(info.get("args", {}).get("hide_neighbours"))
    manifest = manifest_for(args.id, args.version, onnx_path, prediction, model.multiple, card, "hidden" if hidden else "shown")
    existing = os.path.join(args.out, "model.json")
    if os.path.exists(existing):
        # Measurements of the same ONNX bytes stay valid: keep what evaluate.ts and the scoring work added.
        with open(existing) as f:
            old = json.load(f)
        if old.get("sha256") == manifest["sha256"]:
            for k, v in old.get("card", {}).get("metrics", {}).items():
                manifest["card"]["metrics"].setdefault(k, v)
            if old.get("healthyReference"):
                manifest["healthyReference"] = old["healthyReference"]
        elif "noiseFloor" in old.get("card", {}).get("metrics", {}):
            # The noise floor scores the noise-free phantom as the fill, not this network, so it holds for a new file too.
            manifest["card"]["metrics"].setdefault("noiseFloor", old["card"]["metrics"]["noiseFloor"])
    with open(existing, "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    size = os.path.getsize(onnx_path)
    print(json.dumps({"out": args.out, "parameters": params, "bytes": size, "sha256": manifest["sha256"], "seconds": round(time.time() - started, 1)}))


if __name__ == "__main__":
    main()
