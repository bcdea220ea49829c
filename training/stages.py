"""The training stages behind a checkpoint (a model fine-tuned from a fine-tuned model has several)."""
from data import LESION_HYPODENSE_SHARE


def _legacy_stage(prior):
    """A stage recorded before checkpoints kept their whole history: one summary of the source run."""
    recovered = prior.get("recoveredFrom")
    run = f"{recovered['model']} {recovered['version']} (sha256 {recovered['sha256'][:12]})" if recovered else prior.get("from")
    # Runs from before the option existed all showed the neighbour slices whole.
    return {"run": run, "steps": prior.get("steps", 0), "trainingSeconds": round(prior.get("trainingSeconds", 0)), "hardware": prior.get("hardware"), "neighbourSlicesInHole": "shown"}


def training_stages(info):
    """Every stage from the first run to this checkpoint, oldest first."""
    if "stages" in info:  # a checkpoint recovered from a shipped model (from_onnx.py): its card's stages
        return list(info["stages"])
    prior = info.get("initialisedFrom") or {}
    if "stages" in prior:
        earlier = list(prior["stages"])
    elif prior:
        earlier = [_legacy_stage(prior)]
    else:
        earlier = []
    a = info.get("args", {})
    if not prior:
        run = "from scratch"
    elif prior.get("recoveredFrom"):
        run = "continued from those weights (recovered by training/from_onnx.py)"
    else:
        run = "continued from those EMA weights"
    deepened = prior.get("deepenedFrom")
    if deepened:
        run += f", deepened first from {deepened['blocks']} to {deepened['blocks'] + 1} residual blocks per level by training/deepen.py (same output at the start)"
    own = {
        "run": run,
        "steps": info.get("steps", 0),
        "trainingSeconds": round(info.get("trainingSeconds", 0)),
        "hardware": info.get("hardware"),
        "lr": a.get("lr"),
        "fillStart": a.get("fill_start", 0),
        "neighbourSlicesInHole": "hidden" if a.get("hide_neighbours") else "shown",
        **({"lesionNeighbours": a["lesion_neighbours"], "lesionHypodenseShare": a.get("lesion_hypodense", LESION_HYPODENSE_SHARE)} if a.get("lesion_neighbours") else {}),
        "mix": a.get("mix"),
    }
    return earlier + [own]
