"""A YOLOv8 detection checkpoint as an ONNX graph for onnxruntime, built without torch from the `.pt`'s weights.

The graph follows the checkpoint's own layer list (its yaml: from, repeats, module, args); channel counts are read
from the saved weights, so the width and depth multiples are already applied. Batch norm is folded into each
convolution; everything is float32. Input `images`: 1 x 3 x H x W RGB in [0, 1], H and W multiples of 32 (the
letterbox makes them). Output `output0`: 1 x (4 + nc) x N, boxes as centre x, centre y, width, height in input
pixels, then the sigmoid class scores, as ultralytics' own ONNX export gives them.

The graph is converted at first use and cached as `yolo_<sha256 of the .pt>_v<N>.onnx` in a folder the caller
gives (the models folder), like the face ResNet (integrations/face/resnet_onnx.py): a changed checkpoint (another
hash) is converted again. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any, Final

import numpy as np

from hub.auth.filestore import write_atomic

from .yolo_checkpoint import Checkpoint, CheckpointError, Record, read_checkpoint

__all__ = ["CONVERTER_VERSION", "ConversionError", "build_model", "cached_model", "fold_conv", "module_model"]

_LOGGER = logging.getLogger(__name__)

CONVERTER_VERSION: Final = 1  # part of the cache file's name: a change to the graph below bumps it
_OPSET: Final = 17


class ConversionError(Exception):
    """The checkpoint could not be read or converted (the message names the file or the layer)."""


def fold_conv(module: Record) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Kernel, bias and Conv attributes of an ultralytics `Conv` (Conv2d + BatchNorm2d folded) or a bare Conv2d."""
    conv = module if module.kind == "Conv2d" else module.child("conv")
    kernel = conv.tensor("weight").astype(np.float64)
    params = conv.attr("_parameters") or {}
    bias = np.asarray(params["bias"], np.float64) if params.get("bias") is not None else np.zeros(kernel.shape[0])
    if module.kind != "Conv2d":
        bn = module.child("bn")
        scale = bn.tensor("weight").astype(np.float64) / np.sqrt(
            bn.tensor("running_var").astype(np.float64) + float(bn.attr("eps", 1e-5)))
        bias = (bias - bn.tensor("running_mean")) * scale + bn.tensor("bias")
        kernel = kernel * scale[:, None, None, None]
    padding = conv.attr("padding")
    if isinstance(padding, str):
        raise ConversionError(f"string padding {padding!r} is not supported")
    attrs = {
        "kernel_shape": list(kernel.shape[2:]),
        "strides": list(conv.attr("stride", (1, 1))),
        "pads": [*padding, *padding],
        "dilations": list(conv.attr("dilation", (1, 1))),
        "group": int(conv.attr("groups", 1)),
    }
    return kernel.astype(np.float32), bias.astype(np.float32), attrs


class _Builder:
    """ONNX nodes and initializers of one graph, with a helper per YOLOv8 module."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._count = 0

    def _name(self, kind: str) -> str:
        self._count += 1
        return f"{kind}_{self._count}"

    def const(self, value: np.ndarray, kind: str = "c") -> str:
        from onnx import numpy_helper

        name = self._name(kind)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op: str, *inputs: str, outputs: int = 1, **attrs: Any) -> Any:
        from onnx import helper

        names = [self._name(op.lower()) for _ in range(outputs)]
        self.nodes.append(helper.make_node(op, list(inputs), names, name=names[0], **attrs))
        return names[0] if outputs == 1 else names

    def conv(self, module: Record, x: str) -> str:
        """ultralytics Conv: convolution, folded batch norm, SiLU (x * sigmoid x); a bare Conv2d has no activation."""
        kernel, bias, attrs = fold_conv(module)
        y = self.op("Conv", x, self.const(kernel, "w"), self.const(bias, "b"), **attrs)
        if module.kind == "Conv2d":
            return y
        activation = module.children().get("act")
        if activation is None or activation.kind == "Identity":
            return y
        if activation.kind != "SiLU":
            raise ConversionError(f"activation {activation.kind} is not supported")
        return self.op("Mul", y, self.op("Sigmoid", y))

    def c2f(self, module: Record, x: str) -> str:
        hidden = int(module.attr("c"))
        first = self.conv(module.child("cv1"), x)
        parts = list(self.op("Split", first, self.const(np.array([hidden, hidden], np.int64)), axis=1, outputs=2))
        for bottleneck in module.child("m").children().values():
            parts.append(self.bottleneck(bottleneck, parts[-1]))
        return self.conv(module.child("cv2"), self.op("Concat", *parts, axis=1))

    def bottleneck(self, module: Record, x: str) -> str:
        y = self.conv(module.child("cv2"), self.conv(module.child("cv1"), x))
        return self.op("Add", x, y) if module.attr("add") else y

    def sppf(self, module: Record, x: str) -> str:
        pool = module.child("m")
        size = int(pool.attr("kernel_size"))
        padding = int(pool.attr("padding"))
        parts = [self.conv(module.child("cv1"), x)]
        for _ in range(3):
            parts.append(self.op("MaxPool", parts[-1], kernel_shape=[size, size], strides=[1, 1],
                                 pads=[padding] * 4))
        return self.conv(module.child("cv2"), self.op("Concat", *parts, axis=1))

    def upsample(self, module: Record, x: str) -> str:
        if module.attr("mode", "nearest") != "nearest":
            raise ConversionError(f"upsampling mode {module.attr('mode')} is not supported")
        factor = float(module.attr("scale_factor"))
        scales = self.const(np.array([1, 1, factor, factor], np.float32))
        return self.op("Resize", x, "", scales, mode="nearest", coordinate_transformation_mode="asymmetric",
                       nearest_mode="floor")

    def anchors(self, feature: str, stride: float) -> tuple[str, str]:
        """Cell centres (2 x h*w, in cells, x then y, row-major) and the level's stride (1 x h*w) of a feature map."""
        shape = self.op("Shape", feature)
        h = self.op("Gather", shape, self.const(np.array(2, np.int64)))
        w = self.op("Gather", shape, self.const(np.array(3, np.int64)))
        zero, one, half = self.const(np.array(0, np.int64)), self.const(np.array(1, np.int64)), \
            self.const(np.array(0.5, np.float32))
        xs = self.op("Add", self.op("Cast", self.op("Range", zero, w, one), to=1), half)
        ys = self.op("Add", self.op("Cast", self.op("Range", zero, h, one), to=1), half)
        size = self.op("Slice", shape, self.const(np.array([2], np.int64)), self.const(np.array([4], np.int64)))
        flat = self.const(np.array([1, -1], np.int64))
        grid_x = self.op("Reshape", self.op("Expand", self.op("Unsqueeze", xs, self.const(np.array([0], np.int64))),
                                            size), flat)
        grid_y = self.op("Reshape", self.op("Expand", self.op("Unsqueeze", ys, self.const(np.array([1], np.int64))),
                                            size), flat)
        strides = self.op("Expand", self.const(np.array([[stride]], np.float32)), self.op("Shape", grid_x))
        return self.op("Concat", grid_x, grid_y, axis=0), strides

    def detect(self, module: Record, features: list[str], strides: tuple[float, ...]) -> str:
        """ultralytics Detect: per level a box branch (4 x reg_max bins) and a class branch, decoded to xywh."""
        reg_max, classes = int(module.attr("reg_max", 16)), int(module.attr("nc"))
        flat = self.const(np.array([1, 4 * reg_max + classes, -1], np.int64))
        levels, centres, scales = [], [], []
        for feature, box_branch, cls_branch, stride in zip(features, module.child("cv2").children().values(),
                                                          module.child("cv3").children().values(), strides,
                                                          strict=True):
            box, cls = feature, feature
            for layer in box_branch.children().values():
                box = self.conv(layer, box)
            for layer in cls_branch.children().values():
                cls = self.conv(layer, cls)
            levels.append(self.op("Reshape", self.op("Concat", box, cls, axis=1), flat))
            centre, scale = self.anchors(feature, stride)
            centres.append(centre)
            scales.append(scale)
        joined = self.op("Concat", *levels, axis=2)
        box, cls = self.op("Split", joined, self.const(np.array([4 * reg_max, classes], np.int64)), axis=1,
                           outputs=2)
        # DFL: a softmax over each side's reg_max bins, the expected bin is the distance (in cells)
        bins = self.op("Softmax", self.op("Reshape", box, self.const(np.array([1, 4, reg_max, -1], np.int64))),
                       axis=2)
        weights = module.child("dfl").child("conv").tensor("weight").astype(np.float32).reshape(1, 1, reg_max, 1)
        distances = self.op("ReduceSum", self.op("Mul", bins, self.const(weights)),
                            self.const(np.array([2], np.int64)), keepdims=0)
        left_top, right_bottom = self.op("Split", distances, self.const(np.array([2, 2], np.int64)), axis=1,
                                         outputs=2)
        centre = self.op("Unsqueeze", self.op("Concat", *centres, axis=1), self.const(np.array([0], np.int64)))
        top_left = self.op("Sub", centre, left_top)
        bottom_right = self.op("Add", centre, right_bottom)
        middle = self.op("Mul", self.op("Add", top_left, bottom_right), self.const(np.array(0.5, np.float32)))
        size = self.op("Sub", bottom_right, top_left)
        scale = self.op("Unsqueeze", self.op("Concat", *scales, axis=1), self.const(np.array([0], np.int64)))
        boxes = self.op("Mul", self.op("Concat", middle, size, axis=1), scale)
        return self.op("Concat", boxes, self.op("Sigmoid", cls), axis=1)


def build_model(checkpoint: Checkpoint) -> Any:
    """The ONNX model (onnx.ModelProto) of a YOLOv8 detection checkpoint read by `read_checkpoint`."""
    from onnx import TensorProto, checker, helper

    spec = checkpoint.yaml
    rows = [*spec.get("backbone", []), *spec.get("head", [])]
    layers = checkpoint.layers
    if len(rows) != len(layers):
        raise ConversionError(f"the yaml lists {len(rows)} layers, the model has {len(layers)}")
    builder = _Builder()
    outputs: list[str] = []
    current = "images"
    for index, ((source, _repeats, name, _args), layer) in enumerate(zip(rows, layers, strict=True)):
        sources = [source] if isinstance(source, int) else list(source)
        inputs = [current if s == -1 else outputs[s if s >= 0 else index + s] for s in sources]
        kind = name.split(".")[-1]
        if kind != layer.kind:
            raise ConversionError(f"layer {index}: the yaml says {name}, the model holds {layer.kind}")
        if kind == "Conv":
            current = builder.conv(layer, inputs[0])
        elif kind == "C2f":
            current = builder.c2f(layer, inputs[0])
        elif kind == "SPPF":
            current = builder.sppf(layer, inputs[0])
        elif kind == "Upsample":
            current = builder.upsample(layer, inputs[0])
        elif kind == "Concat":
            current = builder.op("Concat", *inputs, axis=int(layer.attr("d", 1)))
        elif kind == "Detect":
            current = builder.detect(layer, inputs, checkpoint.stride)
        else:
            raise ConversionError(f"layer {index}: module {name} is not supported")
        outputs.append(current)
    classes = int(spec.get("nc", 1))
    builder.nodes.append(helper.make_node("Identity", [current], ["output0"], name="output0"))
    model = helper.make_model(
        helper.make_graph(builder.nodes, "yolov8_detect",
                          [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "height", "width"])],
                          [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + classes, "anchors"])],
                          builder.inits),
        opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="hacho")
    model.ir_version = 8  # readable by every onnxruntime the project allows (>= 1.17)
    names = checkpoint.names
    helper.set_model_props(model, {"names": ",".join(names[i] for i in sorted(names)),
                                   "stride": str(int(max(checkpoint.stride)))})
    checker.check_model(model)
    return model


def module_model(module: Record) -> Any:
    """One Conv, C2f or SPPF module alone as an ONNX model (input `x`, output `y`), to check it against a reference."""
    from onnx import TensorProto, checker, helper

    builder = _Builder()
    build = {"Conv": builder.conv, "C2f": builder.c2f, "SPPF": builder.sppf}.get(module.kind)
    if build is None:
        raise ConversionError(f"module {module.kind} is not supported alone")
    builder.nodes.append(helper.make_node("Identity", [build(module, "x")], ["y"], name="y"))
    model = helper.make_model(
        helper.make_graph(builder.nodes, module.kind,
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "c", "h", "w"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "k", "p", "q"])], builder.inits),
        opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="hacho")
    model.ir_version = 8
    checker.check_model(model)
    return model


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def cached_model(checkpoint: Path, cache_dir: Path) -> Path:
    """The cached ONNX file of `checkpoint`, converting it first when the cache lacks it (blocking, seconds)."""
    try:
        digest = _sha256(checkpoint)
    except OSError as err:
        raise ConversionError(f"{checkpoint}: cannot read ({err.strerror})") from err
    target = cache_dir / f"yolo_{digest}_v{CONVERTER_VERSION}.onnx"
    if target.is_file():
        return target
    started = time.monotonic()
    try:
        model = build_model(read_checkpoint(checkpoint))
    except CheckpointError as err:
        raise ConversionError(str(err)) from err
    except ImportError as err:
        raise ConversionError(f"cannot convert {checkpoint}: {err} (pip install onnx)") from err
    try:  # atomically: another process converting at once writes the same bytes under the same name
        write_atomic(target, model.SerializeToString())
    except OSError as err:
        raise ConversionError(f"cannot write {target}: {err}") from err
    _LOGGER.info("Converted %s to %s in %.1f s", checkpoint.name, target, time.monotonic() - started)
    return target
