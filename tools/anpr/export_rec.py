"""Export the plate recogniser: PP-OCRv4's text recogniser (Apache-2.0, from the rapidocr-onnxruntime wheel)
with its 6,625-class output layer cut down to the CTC blank and the 36 plate characters (0-9, A-Z).

    pip install --no-deps rapidocr-onnxruntime==1.4.4 onnx   # the source model and the ONNX editor
    python -m tools.anpr.export_rec [--out integrations/anpr/models/plate_rec.onnx]

Cutting the classifier changes no weight that is kept: the logits of the kept classes are the same,
the softmax is taken over plate characters only (so a plate character is never out-voted by a Chinese
one), and the file is smaller and faster to run. The character list travels in the model's metadata.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

PLATE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "integrations" / "anpr" / "models" / "plate_rec.onnx"
SOURCE = "ch_PP-OCRv4_rec_infer.onnx"


def _source_model() -> Path:
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("install the source model first: pip install --no-deps rapidocr-onnxruntime==1.4.4")
    return Path(next(iter(spec.submodule_search_locations))) / "models" / SOURCE


def export(out: Path) -> None:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(_source_model()))
    meta = {p.key: p.value for p in model.metadata_props}
    chars = ["<blank>", *meta["character"].splitlines(), " "]
    keep = [0] + [i for i, c in enumerate(chars) if len(c) == 1 and c in PLATE_CHARS]
    kept_chars = [chars[i] for i in keep[1:]]
    if sorted(kept_chars) != sorted(PLATE_CHARS):
        raise SystemExit(f"the source model lacks plate characters: {sorted(set(PLATE_CHARS) - set(kept_chars))}")
    graph = model.graph
    matmul = next(n for n in reversed(graph.node) if n.op_type == "MatMul")
    add = next(n for n in reversed(graph.node) if n.op_type == "Add" and matmul.output[0] in n.input)
    # paddle2onnx stores weights as Constant nodes (older exports as initializers): handle both.
    tensors = {i.name: i for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            tensors[node.output[0]] = next(a.t for a in node.attribute if a.name == "value")
    bias_name = next(i for i in add.input if i in tensors)
    for name, cut in ((matmul.input[1], lambda a: a[:, keep]), (bias_name, lambda a: a[keep])):
        array = numpy_helper.to_array(tensors[name])
        tensors[name].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(cut(array), np.float32), name))
    output = graph.output[0]
    dims = output.type.tensor_type.shape.dim
    dims[-1].ClearField("dim_param")
    dims[-1].dim_value = len(keep)
    del model.metadata_props[:]
    for key, value in (("character", "\n".join(kept_chars)),
                       ("source", f"PaddleOCR PP-OCRv4 rec ({SOURCE}, Apache-2.0), classes cut to plate characters")):
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB, {len(keep)} classes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    export(parser.parse_args().out)


if __name__ == "__main__":
    main()
