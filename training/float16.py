#!/usr/bin/env python3
"""Float16 variant of an exported model: weights and activations in float16, inputs and output
kept float32 (a Cast after each input and before the output), so the engine feeds it exactly as
it feeds the float32 model.

    /usr/bin/python3 training/float16.py --model models/healthy-brain-ddpm/model.onnx --out /tmp/model.fp16.onnx

Written here because onnxconverter-common (the usual tool) is not packaged in Debian and PyPI is
not reachable from these machines; the graph the exporter writes uses few operators, and the ones
whose inputs the ONNX spec fixes to float32 (Resize's roi and scales) are kept float32.
Check a variant with training/parity.ts (a copy of the model folder with this file and its
sha256) and the benchmarks; training/README.md ("Float16") has the measurements and why none ships.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT, HALF = TensorProto.FLOAT, TensorProto.FLOAT16
# Inputs that must stay float32 whatever the data type of the node: (op, input index).
KEEP_FLOAT32_INPUTS = {("Resize", 1), ("Resize", 2)}


def _half_tensor(t: onnx.TensorProto) -> onnx.TensorProto:
    a = numpy_helper.to_array(t)
    if np.abs(a).max(initial=0) > 65504:
        raise SystemExit(f"{t.name}: values beyond the float16 range; not converted")
    return numpy_helper.from_array(a.astype(np.float16), t.name)


def _cast_edge(g: onnx.GraphProto, name: str, edge: str) -> onnx.NodeProto:
    """Renames the graph's uses (input) or production (output) of `name` to a float16 copy and
    returns the Cast node between the two."""
    half = f"{name}_fp16"
    for n in g.node:
        names = n.input if edge == "input" else n.output
        for i, v in enumerate(names):
            if v == name:
                names[i] = half
    if edge == "input":
        return helper.make_node("Cast", [name], [half], to=HALF, name=f"cast_in_{name}")
    return helper.make_node("Cast", [half], [name], to=FLOAT, name=f"cast_out_{name}")


def convert(model: onnx.ModelProto) -> onnx.ModelProto:
    g = model.graph
    # Names that must stay float32: feeding Resize's roi/scales, and the Constants producing them.
    keep = set()
    for n in g.node:
        for i, name in enumerate(n.input):
            if (n.op_type, i) in KEEP_FLOAT32_INPUTS and name:
                keep.add(name)
    new_inits = []
    for t in g.initializer:
        new_inits.append(_half_tensor(t) if t.data_type == FLOAT and t.name not in keep else t)
    del g.initializer[:]
    g.initializer.extend(new_inits)
    for n in g.node:
        if n.op_type == "Constant" and n.output[0] not in keep:
            for a in n.attribute:
                if a.name == "value" and a.t.data_type == FLOAT:
                    a.t.CopyFrom(_half_tensor(a.t))
        if n.op_type == "Cast":
            for a in n.attribute:
                if a.name == "to" and a.i == FLOAT:
                    a.i = HALF
    # float32 inputs and output: the graph works on float16 copies, cast at the edges.
    casts_in = [_cast_edge(g, inp.name, "input") for inp in g.input if inp.type.tensor_type.elem_type == FLOAT]
    casts_out = [_cast_edge(g, out.name, "output") for out in g.output if out.type.tensor_type.elem_type == FLOAT]
    nodes = casts_in + list(g.node) + casts_out
    del g.node[:]
    g.node.extend(nodes)
    # Intermediate shapes were inferred for float32; drop them and let checkers infer again.
    del g.value_info[:]
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    model = convert(onnx.load(args.model))
    onnx.checker.check_model(model)
    onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.save(model, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
