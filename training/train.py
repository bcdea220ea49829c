#!/usr/bin/python3
"""Train the conditional inpainting diffusion model on preprocessed healthy stacks.

    /usr/bin/python3 training/train.py --data training/data/phantoms --out training/runs/main \
        --steps 6000 [--minutes 240] [--resume]

Subjects (folders written by `inpaint-ct preprocess` or scripts/gen-training-data.ts) are split
by subject: phantom seeds in --val-seeds (default 1400-1449) validate, the others train; data
without a seed is split by --val-fraction of the sorted subject names. Every step draws one
layout (a fast-preset crop size or the whole slice, by --mix) and fills a batch of about
--pixels-per-step pixels with random inpainting problems of it (data.py), a timestep per example
(half of them in the band the fast preset visits, --t-focus), and regresses the manifest's
prediction target (v by default) on the hole's pixels. EMA weights are what export.py ships.
Deterministic for a given --seed on one machine (CPU); resumable from checkpoint.pt.
"""
import argparse
import json
import math
import os
import platform
import signal
import sys
import time
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import CROP_FOR_SQUARE, LESION_HYPODENSE_SHARE, ExampleSampler, find_subjects, load_subjects, subject_seed  # noqa: E402
from diffusion import Diffusion  # noqa: E402
from stages import training_stages  # noqa: E402
from unet import InpaintUNet, count_params, macs_per_pixel  # noqa: E402

FAST_BAND = (120, 520)  # around the fast preset's start (t = 500), and the 166/332 its former 3-step chain visited
VAL_TIMESTEPS = (166, 332, 499)
# The fast preset's single DDIM step starts at round(0.5 x 999) = 500 from the hole's linear fill
# noised to that step (presets.ts, engine.ts), not from the truth noised: "fill-start" examples
# give the network exactly that input and ask for the truth.
FAST_START_T = 500


def parse_range(spec):
    out = set()
    for part in spec.split(","):
        if not part:
            continue
        a, _, b = part.partition("-")
        out.update(range(int(a), int(b or a) + 1))
    return out


def parse_mix(spec):
    mix = {}
    for part in spec.split(","):
        k, v = part.split(":")
        mix["full" if k == "full" else int(k)] = float(v)
    total = sum(mix.values())
    return {k: v / total for k, v in mix.items()}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def split_subjects(paths, val_seeds, val_fraction):
    train, val = [], []
    for p in paths:
        seed = subject_seed(p)
        if seed is not None:
            if seed < 1000 or seed >= 5000:
                raise SystemExit(f"{p}: phantom seed {seed} is reserved for benchmarks (training seeds are 1000-4999)")
            (val if seed in val_seeds else train).append(p)
        else:
            # Stable split of other data by a hash of the folder name (independent of what else is there).
            bucket = zlib.crc32(os.path.basename(p.rstrip("/")).encode()) % 1000
            (val if bucket < val_fraction * 1000 else train).append(p)
    return train, val


class Ema:
    def __init__(self, model, decay):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.updates = 0

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.shadow[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.shadow[k].copy_(v)


def batch_count(kind, pixels):
    side = 256 if kind == "full" else CROP_FOR_SQUARE[kind]
    return max(1, pixels // (side * side))


def build_val_set(subjects, seed, pixels, hide_neighbours):
    """Fixed validation problems: every crop layout and the whole slice, at the fast preset's timesteps."""
    sampler = ExampleSampler(subjects, seed, p_jitter=0.0, p_drop_neighbour=0.0, flip=False, hide_neighbours=hide_neighbours)
    g = torch.Generator().manual_seed(seed)
    items = []
    for kind in (8, 16, 32, 64, "full"):
        n = batch_count(kind, pixels) if kind != "full" else 2
        cond, x0, hole, init = (torch.from_numpy(a) for a in sampler.batch(kind, n))
        for t in VAL_TIMESTEPS:
            items.append((kind, t, cond, x0, hole, x0, torch.randn(x0.shape, generator=g)))
        items.append((kind, "fill", cond, x0, hole, init, torch.randn(x0.shape, generator=g)))
    return items


@torch.no_grad()
def validate(model, diffusion, items):
    model.eval()
    by = {}
    for kind, t, cond, x0, hole, start, noise in items:
        fill = t == "fill"
        tt = torch.full((x0.shape[0],), FAST_START_T if fill else t, dtype=torch.long, device=x0.device)
        xt = diffusion.q_sample(start, tt, noise)
        inp = cond.clone()
        inp[:, 0:1] = xt
        out = model(inp, tt.float())
        x0_hat = diffusion.predict_x0(out, xt, tt).clamp(-1, 1)
        n = hole.sum().item()
        mae = ((x0_hat - x0).abs() * hole).sum().item() / n * 127.5  # network units -> 0-255
        acc = by.setdefault(f"{kind}", {"loss": 0.0, "mae255": 0.0, "n": 0})
        if fill:
            acc["fillMae255"] = mae
            continue
        target = diffusion.target(x0, noise, tt)
        acc["loss"] += (((out - target) ** 2) * hole).sum().item() / n
        acc["mae255"] += mae
        acc["n"] += 1
        acc[f"mae255_t{t}"] = mae
    model.train()
    out = {k: {"loss": v["loss"] / v["n"], "mae255": v["mae255"] / v["n"], **{m: v[m] for m in v if m.startswith("mae255_t") or m == "fillMae255"}} for k, v in by.items()}
    out["loss"] = float(np.mean([v["loss"] for v in out.values()]))
    out["mae255"] = float(np.mean([v["mae255"] for k, v in out.items() if isinstance(v, dict)]))
    out["fillMae255"] = float(np.mean([v["fillMae255"] for k, v in out.items() if isinstance(v, dict)]))
    return out


def lr_at(step, progress, base, warmup):
    """Warm-up, then cosine decay to 10% over the run's progress (steps or time budget, whichever is further)."""
    if step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, progress)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder of preprocessed subjects (searched recursively)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--val-seeds", default="1400-1449")
    ap.add_argument("--val-fraction", type=float, default=0.1, help="for data without phantom seeds")
    ap.add_argument("--max-train-subjects", type=int, default=0)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--minutes", type=float, default=0, help="stop (and save) after this wall time")
    ap.add_argument("--pixels-per-step", type=int, default=65536)
    ap.add_argument("--mix", default="8:0.12,16:0.15,32:0.25,64:0.33,full:0.15")
    ap.add_argument("--t-focus", type=float, default=0.5, help="fraction of timesteps drawn in the fast preset's band")
    ap.add_argument("--fill-start", type=float, default=0.0, help="fraction of examples posed as the fast preset poses them: the hole's linear fill noised to t = 500, target the truth")
    ap.add_argument("--hide-neighbours", action="store_true", help="blank the slices above and below inside the hole too, so the model cannot copy a lesion that spans slices (manifest: neighbourSlicesInHole hidden)")
    ap.add_argument("--lesion-neighbours", type=float, default=0.0, help="fraction of examples with a lesion painted into the slices above and below (and half of them around the hole) while the truth stays healthy, so the model does not copy a lesion that spans slices")
    ap.add_argument("--lesion-hypodense", type=float, default=LESION_HYPODENSE_SHARE, help="share of those lesions darker than brain (-5 to -20 HU, like an infarct); the rest are denser (+16 to +48 HU, like blood)")
    ap.add_argument("--prediction", default="v", choices=["epsilon", "v", "x0"])
    ap.add_argument("--base", type=int, default=16)
    ap.add_argument("--mults", default="1,2,4,4")
    ap.add_argument("--blocks", type=int, default=1)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    ap.add_argument("--val-every", type=int, default=250)
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--rescan-every", type=int, default=0, help="look for new training subjects every N steps (data still being generated)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init-from", help="start from this checkpoint's EMA weights (same architecture) with a fresh optimiser and schedule")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else ("cpu" if args.device == "auto" else args.device))
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "log.jsonl")

    def log(msg, **fields):
        rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "msg": msg, **fields}
        print(json.dumps(rec), flush=True)
        with open(log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    paths = find_subjects(args.data)
    train_paths, val_paths = split_subjects(paths, parse_range(args.val_seeds), args.val_fraction)
    if args.max_train_subjects:
        train_paths = train_paths[: args.max_train_subjects]
    if not train_paths or not val_paths:
        raise SystemExit(f"need training and validation subjects; found {len(train_paths)} and {len(val_paths)} under {args.data}")
    t0 = time.time()
    if args.resume and os.path.exists(os.path.join(args.out, "checkpoint.pt")):
        # Same subjects in the same order as when the checkpoint was written (the sampler's state refers to them).
        had = torch.load(os.path.join(args.out, "checkpoint.pt"), map_location="cpu")["info"].get("trainSubjectOrder")
        if had:
            by_name = {os.path.basename(p.rstrip("/")): p for p in train_paths}
            train_paths = [by_name[n] for n in had if n in by_name] + [p for p in train_paths if os.path.basename(p.rstrip("/")) not in set(had)]
    train_subjects = load_subjects(train_paths, log=lambda m: log(m))
    val_subjects = load_subjects(val_paths)
    n_train_slices = sum(len(s.slices) for s in train_subjects)
    log("data", train_subjects=len(train_subjects), val_subjects=len(val_subjects), train_slices=n_train_slices, seconds=round(time.time() - t0, 1))

    model = InpaintUNet(base=args.base, mults=tuple(int(m) for m in args.mults.split(",")), blocks=args.blocks).to(device)
    diffusion = Diffusion(args.prediction)
    diffusion.alpha_bar = diffusion.alpha_bar.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    ema = Ema(model, args.ema)
    sampler = ExampleSampler(train_subjects, args.seed, pose_fill=args.fill_start > 0, hide_neighbours=args.hide_neighbours, p_lesion=args.lesion_neighbours, p_hypodense=args.lesion_hypodense)
    mix = parse_mix(args.mix)
    kinds = list(mix.keys())
    probs = np.array([mix[k] for k in kinds])
    step = 0
    elapsed = 0.0
    history = []
    prior = None
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        ema.shadow = {k: v.to(device) for k, v in ck["ema"].items()}
        ema.updates = ck["ema_updates"]
        opt.load_state_dict(ck["optimizer"])
        step = ck["step"]
        elapsed = ck["info"]["trainingSeconds"]
        history = ck["info"].get("validation", [])
        prior = ck["info"].get("initialisedFrom")
        sampler.rng.bit_generator.state = ck["sampler_rng"]
        torch.set_rng_state(ck["torch_rng"].cpu())
        log("resumed", step=step)
    if args.init_from and step == 0:
        src = torch.load(args.init_from, map_location="cpu")
        if src["model_config"] != model.config or src["prediction"] != args.prediction:
            raise SystemExit(f"--init-from {args.init_from}: its architecture {src['model_config']} / {src['prediction']} differs from this run's")
        model.load_state_dict(src["ema"])
        ema = Ema(model, args.ema)
        ema.updates = 1000  # the shadow starts from trained weights: no EMA warm-up
        src_hidden = src["info"].get("args", {}).get("hide_neighbours") or src["info"].get("neighbourSlicesInHole") == "hidden"
        if bool(src_hidden) != args.hide_neighbours:
            log("warning", message=f"--init-from {args.init_from} was trained with the neighbour slices {'hidden' if src_hidden else 'shown'} inside the hole; this run "
                f"{'hides' if args.hide_neighbours else 'shows'} them (pass --hide-neighbours to match it)")
        stages = training_stages(src["info"])
        prior = {"from": args.init_from, "steps": sum(st["steps"] for st in stages), "trainingSeconds": sum(st["trainingSeconds"] for st in stages), "validation": src["info"].get("validation", [])[-1:], "recoveredFrom": src["info"].get("recoveredFrom"), "deepenedFrom": src["info"].get("deepenedFrom"), "hardware": src["info"].get("hardware"), "stages": stages}
        log("initialised", **{k: v for k, v in prior.items() if k != "validation"})
    params = count_params(model)
    log("model", parameters=params, macs_per_pixel=round(macs_per_pixel(InpaintUNet(**model.config))), config=model.config, prediction=args.prediction, device=str(device))

    val_items = [(k, t, *(a.to(device) for a in rest)) for k, t, *rest in build_val_set(val_subjects, 4242, 16384, args.hide_neighbours)]
    validated_on = sorted(s.name for s in val_subjects)
    val_names = {os.path.basename(p.rstrip("/")) for p in val_paths}

    def save(final=False):
        info = {
            "trainingSeconds": elapsed,
            "steps": step,
            "trainSubjects": sorted(s.name for s in sampler.subjects),
            "trainSubjectOrder": [s.name for s in sampler.subjects],
            "valSubjects": validated_on,
            "trainSlices": len(sampler.pairs),
            "args": vars(args),
            "hardware": (f"{torch.cuda.get_device_name(device)}, PyTorch {torch.__version__}" if device.type == "cuda" else f"{cpu_name()} ({os.cpu_count()} cores, {args.threads} threads), PyTorch {torch.__version__} on CPU"),
            "validation": history,
            "parameters": params,
            "initialisedFrom": prior,
        }
        state = {
            "model": model.state_dict(),
            "ema": ema.shadow,
            "ema_updates": ema.updates,
            "optimizer": opt.state_dict(),
            "step": step,
            "model_config": model.config,
            "prediction": args.prediction,
            "sampler_rng": sampler.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "info": info,
        }
        tmp = ckpt_path + ".tmp"
        torch.save(state, tmp)
        os.replace(tmp, ckpt_path)
        if final:
            log("saved", step=step, path=ckpt_path)

    stop = {"now": False}

    def on_signal(signum, _frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ema_model = InpaintUNet(**model.config).to(device)
    model.train()
    window = []
    while step < args.steps and not stop["now"]:
        if args.minutes and elapsed >= args.minutes * 60:
            log("time budget reached", step=step)
            break
        started = time.time()
        kind = kinds[sampler.rng.choice(len(kinds), p=probs)]
        cond, x0, hole, init = (torch.from_numpy(a).to(device) for a in sampler.batch(kind, batch_count(kind, args.pixels_per_step)))
        b = x0.shape[0]
        focus = torch.rand(b) < args.t_focus
        t = torch.where(focus, torch.randint(FAST_BAND[0], FAST_BAND[1] + 1, (b,)), torch.randint(0, diffusion.T, (b,)))
        fill = (torch.rand(b) < args.fill_start) if args.fill_start > 0 else torch.zeros(b, dtype=torch.bool)
        t = torch.where(fill, torch.full_like(t, FAST_START_T), t).to(device)
        fill4 = fill.to(device)[:, None, None, None]
        noise = torch.randn(x0.shape).to(device)
        xt = diffusion.q_sample(torch.where(fill4, init, x0), t, noise)
        cond[:, 0:1] = xt
        out = model(cond, t.float())
        target = torch.where(fill4, diffusion.target_for_x0(x0, xt, t), diffusion.target(x0, noise, t))
        loss = (((out - target) ** 2) * hole).sum() / hole.sum().clamp(min=1)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, max(step / args.steps, elapsed / (args.minutes * 60) if args.minutes else 0.0), args.lr, args.warmup)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model)
        step += 1
        dt = time.time() - started
        elapsed += dt
        window.append((float(loss), dt, str(kind)))
        if step % 25 == 0:
            losses = [w[0] for w in window]
            log("train", step=step, loss=round(float(np.mean(losses)), 5), sec_per_step=round(float(np.mean([w[1] for w in window])), 3), lr=round(opt.param_groups[0]["lr"], 7), elapsed_min=round(elapsed / 60, 1))
            window = []
        if step % args.val_every == 0 or step == args.steps:
            ema_model.load_state_dict(ema.shadow)
            v = validate(ema_model, diffusion, val_items)
            history.append({"step": step, "elapsedMinutes": round(elapsed / 60, 1), **v})
            log("val", step=step, loss=round(v["loss"], 5), mae255=round(v["mae255"], 3), fillMae255=round(v["fillMae255"], 3), detail={k: [round(d["mae255"], 2), round(d["fillMae255"], 2)] for k, d in v.items() if isinstance(d, dict)})
        if step % args.ckpt_every == 0:
            save()
        if args.rescan_every and step % args.rescan_every == 0:
            known = {s.name for s in sampler.subjects} | val_names
            fresh = [p for p in split_subjects(find_subjects(args.data), parse_range(args.val_seeds), args.val_fraction)[0] if os.path.basename(p.rstrip("/")) not in known]
            if args.max_train_subjects:
                fresh = fresh[: max(0, args.max_train_subjects - len(sampler.subjects))]
            if fresh:
                sampler.add_subjects(load_subjects(fresh))
                log("added subjects", added=len(fresh), train_subjects=len(sampler.subjects), train_slices=len(sampler.pairs))
    save(final=True)


if __name__ == "__main__":
    main()
