#!/usr/bin/python3
"""Turn a shipped model (models/<id>/model.onnx + model.json) back into a training checkpoint.

    /usr/bin/python3 training/from_onnx.py --model models/healthy-brain-ddpm --out training/runs/shipped/checkpoint.pt

The repository ships the exported network, not the PyTorch checkpoint (which carries optimiser
state and is several times larger). To fine-tune the shipped model, on more phantoms or on your
own healthy scans, recover its weights with this script and start a run from them:

    /usr/bin/python3 training/train.py ... --init-from training/runs/shipped/checkpoint.pt

How: the export keeps PyTorch's parameter names for most initialisers, but GroupNorm's scale and
shift become anonymous constants of the decomposed normalisation. A network of the same
architecture with distinct random weights is exported the same way; every initialiser of that
export is matched to the parameter that holds its values, and the shipped file's initialisers
are read through that map. The result is checked by exporting the recovered network again and
comparing every initialiser with the shipped file, bit for bit.
"""
import argparse
import json
import os
import re
import sys
import tempfile

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import export_onnx, sha256  # noqa: E402
from onnx_fixups import unpadded_initialisers  # noqa: E402
from unet import InpaintUNet  # noqa: E402


def initialisers(path):
    # As the exporter wrote them: export_onnx pads the input channels (onnx_fixups.py).
    return unpadded_initialisers(onnx.load(path))


def architecture_from_card(card):
    """base / mults / blocks of the card's architecture line (cards written before modelConfig existed)."""
    if isinstance(card.get("modelConfig"), dict):
        return card["modelConfig"]
    text = card.get("architecture", "")
    base = re.search(r"base width (\d+)", text)
    mults = re.search(r"channel multipliers \[([\d, ]+)\]", text)
    blocks = re.search(r"(\d+) residual block", text)
    if not (base and mults and blocks):
        raise SystemExit("model.json does not state the architecture (base width, channel multipliers, residual blocks); pass --base, --mults and --blocks")
    return {"base": int(base.group(1)), "mults": [int(m) for m in mults.group(1).split(",")], "blocks": int(blocks.group(1))}


def parameter_map(model, tmpdir):
    """ONNX initialiser name -> state-dict key, for this architecture's export."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.state_dict().values():
            if p.dtype.is_floating_point:
                p.copy_(torch.randn(p.shape, generator=g))
    path = os.path.join(tmpdir, "probe.onnx")
    export_onnx(model, path)
    by_bytes = {}
    for key, value in model.state_dict().items():
        if value.dtype.is_floating_point:
            by_bytes.setdefault(value.numpy().astype(np.float32).tobytes(), key)
    mapping = {}
    for name, array in initialisers(path).items():
        key = by_bytes.get(np.ascontiguousarray(array, dtype=np.float32).reshape(-1).tobytes())
        if key is not None:
            mapping[name] = key
    missing = set(k for k, v in model.state_dict().items() if v.dtype.is_floating_point) - set(mapping.values())
    if missing:
        raise SystemExit(f"could not locate {len(missing)} parameters in the export (e.g. {sorted(missing)[:3]}); the architecture differs from the file's")
    return mapping


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="folder with model.onnx and model.json")
    ap.add_argument("--out", required=True, help="checkpoint to write (for train.py --init-from)")
    ap.add_argument("--base", type=int)
    ap.add_argument("--mults")
    ap.add_argument("--blocks", type=int)
    args = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    with open(os.path.join(args.model, "model.json")) as f:
        manifest = json.load(f)
    onnx_path = os.path.join(args.model, manifest["file"])
    if sha256(onnx_path) != manifest["sha256"]:
        raise SystemExit(f"{onnx_path} does not match the sha256 in model.json; refusing to recover weights from a modified file")
    card = manifest.get("card", {})
    config = architecture_from_card(card)
    if args.base:
        config["base"] = args.base
    if args.mults:
        config["mults"] = [int(m) for m in args.mults.split(",")]
    if args.blocks:
        config["blocks"] = args.blocks
    model = InpaintUNet(base=config["base"], mults=tuple(config["mults"]), blocks=config["blocks"])

    shipped = initialisers(onnx_path)
    with tempfile.TemporaryDirectory() as tmp:
        mapping = parameter_map(model, tmp)
        state = model.state_dict()
        for name, key in mapping.items():
            if name not in shipped:
                raise SystemExit(f"{onnx_path} has no initialiser {name}: it was exported from another architecture or exporter")
            state[key] = torch.from_numpy(np.ascontiguousarray(shipped[name], dtype=np.float32).reshape(state[key].shape).copy())
        model.load_state_dict(state)
        model.eval()
        again = os.path.join(tmp, "again.onnx")
        export_onnx(model, again)
        redone = initialisers(again)
        differing = [n for n, a in shipped.items() if n not in redone or not np.array_equal(a, redone[n])]
        if differing:
            raise SystemExit(f"re-exported weights differ from the shipped file in {len(differing)} initialisers (e.g. {differing[:3]}); not writing a checkpoint")

    training = card.get("training", {})
    hours = re.match(r"([\d.]+) h", card.get("trainingTime", ""))
    seconds = training.get("trainingSeconds") or (float(hours.group(1)) * 3600 if hours else 0.0)
    val = card.get("metrics", {}).get("validation", {})
    ckpt = {
        "model_config": model.config,
        "prediction": manifest["prediction"],
        "model": model.state_dict(),
        "ema": model.state_dict(),
        "step": int(training.get("steps") or 0),
        "info": {
            "trainingSeconds": seconds,
            "steps": int(training.get("steps") or 0),
            "validation": [{"step": val.get("step"), "loss": val.get("loss"), "mae255": val.get("oneStepMae255")}] if val else [],
            "recoveredFrom": {"model": manifest["id"], "version": manifest["version"], "sha256": manifest["sha256"]},
            "hardware": card.get("hardware"),
            # So that fine-tuning continues the record and is warned if it changes how the neighbours are shown.
            **({"stages": training["stages"]} if isinstance(training.get("stages"), list) else {}),
            "neighbourSlicesInHole": manifest.get("conditioning", {}).get("neighbourSlicesInHole", "shown"),
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(ckpt, args.out)
    print(json.dumps({"out": args.out, "config": model.config, "steps": ckpt["step"], "trainingSeconds": round(seconds), "initialisers": len(mapping), "verified": True}))


if __name__ == "__main__":
    main()
