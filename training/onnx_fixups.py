#!/usr/bin/env python3
"""Graph changes every exported model gets, so that each ONNX Runtime provider computes it right.

Input channels padded to a multiple of 4. ONNX Runtime's WebGPU provider (1.30) computes a
convolution that reads a 6-channel graph input wrongly (off by more than the output's own size;
onnxruntime issue 29651); with 5, 7, 8 or 12 channels it is right. So a Pad node adds zero
channels to such an input and the convolutions reading it get zero weights for them: the network
is the same function (the CPU gives bit-identical outputs) and WebGPU computes it right.
The engine keeps feeding 6 channels; nothing outside the file changes.

    /usr/bin/python3 training/onnx_fixups.py --model models/healthy-brain-ddpm/model.onnx   # in place

export.py applies this to every export; the command is for files exported before it did (their
sha256 in model.json changes; update it and say so in the card).
"""
import argparse

import numpy as np
import onnx
from onnx import helper, numpy_helper

PAD_NODE = "pad_input_channels"


def pad_input_channels(model: onnx.ModelProto, multiple: int = 4) -> bool:
    """Pads every 4-D graph input whose channel count is not a multiple of `multiple` and that
    only convolutions read. Returns whether the graph changed."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    changed = False
    for inp in g.input:
        dims = inp.type.tensor_type.shape.dim
        if len(dims) != 4 or not dims[1].HasField("dim_value") or dims[1].dim_value % multiple == 0:
            continue
        channels = dims[1].dim_value
        readers = [n for n in g.node if inp.name in n.input]
        convs = [n for n in readers if n.op_type == "Conv" and n.input[0] == inp.name and n.input[1] in inits]
        # Only when the padding is invisible: every reader a plain convolution with stored weights.
        if not convs or len(convs) != len(readers) or any(a.name == "group" and a.i != 1 for n in convs for a in n.attribute):
            continue
        extra = -channels % multiple
        padded = f"{inp.name}_padded"
        for n in convs:
            w = numpy_helper.to_array(inits[n.input[1]])
            zeros = np.zeros((w.shape[0], extra) + w.shape[2:], dtype=w.dtype)
            inits[n.input[1]].CopyFrom(numpy_helper.from_array(np.concatenate([w, zeros], axis=1), n.input[1]))
            n.input[0] = padded
        pads = numpy_helper.from_array(np.array([0, 0, 0, 0, 0, extra, 0, 0], dtype=np.int64), f"{PAD_NODE}_{inp.name}")
        g.initializer.append(pads)
        g.node.insert(0, helper.make_node("Pad", [inp.name, pads.name], [padded], mode="constant", name=f"{PAD_NODE}_{inp.name}"))
        changed = True
    return changed


def unpadded_initialisers(model: onnx.ModelProto) -> dict:
    """Initialisers as the exporter wrote them: the zero weights added by pad_input_channels
    removed (from_onnx.py matches them with the PyTorch parameters)."""
    g = model.graph
    arrays = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    channels = {i.name: i.type.tensor_type.shape.dim[1].dim_value for i in g.input if len(i.type.tensor_type.shape.dim) == 4}
    for pad in (n for n in g.node if n.op_type == "Pad" and n.name.startswith(PAD_NODE)):
        c = channels[pad.input[0]]
        del arrays[pad.input[1]]
        for n in g.node:
            if n.op_type == "Conv" and n.input[0] == pad.output[0]:
                arrays[n.input[1]] = arrays[n.input[1]][:, :c]
    return arrays


def apply(path: str) -> bool:
    model = onnx.load(path)
    changed = pad_input_channels(model)
    if changed:
        onnx.checker.check_model(model)
        onnx.save(model, path)
    return changed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="ONNX file, changed in place")
    args = ap.parse_args()
    print(f"{args.model}: {'input channels padded' if apply(args.model) else 'nothing to change'}")


if __name__ == "__main__":
    main()
