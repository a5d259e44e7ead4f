"""dlib's face ResNet run by onnxruntime: the same CC0 weights, converted locally into an ONNX graph.

The graph is built from the installed `dlib_face_recognition_resnet_model_v1.dat` (read by `dlib_dnn.py`) at
first use, in the process that embeds (the face worker), and cached as `dlib_resnet_<sha256>_v<N>.onnx` in a
folder it is given: the next start loads it without converting again, and a changed .dat (another hash)
is converted again. Nothing is downloaded; no weights are committed.

Input: aligned 150x150 RGB face chips (uint8, N x 150 x 150 x 3, as dlib.get_face_chip makes them); the graph
subtracts dlib's per-channel means and divides by 256 as dlib's input layer does. Output: N x 128 embeddings.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import numpy as np

from .dlib_dnn import DlibFormatError, DlibNetwork, read_network

__all__ = ["CONVERTER_VERSION", "ConversionError", "OnnxEmbedder", "build_graph", "converted_model"]

_LOGGER = logging.getLogger(__name__)

CONVERTER_VERSION: Final = 1  # part of the cache file's name: a change to the graph below bumps it
_OPSET: Final = 17


class ConversionError(Exception):
    """The network could not be read, converted or loaded (the message names the file)."""


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class _Graph:
    """Accumulates ONNX nodes and initializers while tracking each tensor's (channels, rows, cols)."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._count = 0

    def name(self, kind: str) -> str:
        self._count += 1
        return f"{kind}_{self._count}"

    def const(self, kind: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(kind)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        from onnx import helper

        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def _pad_to(graph: _Graph, tensor: str, shape: tuple[int, int, int], target: tuple[int, int, int]) -> str:
    """Zero-pad a tensor after its last channel, row and column, as dlib's add_prev treats missing values."""
    if shape == target:
        return tensor
    extra = [0, 0, 0, 0, 0, target[0] - shape[0], target[1] - shape[1], target[2] - shape[2]]
    return graph.node("Pad", [tensor, graph.const("pads", np.array(extra, dtype=np.int64))], mode="constant")


def build_graph(network: DlibNetwork) -> Any:
    """The ONNX model (onnx.ModelProto) of a network read by `read_network`."""
    from onnx import TensorProto, checker, helper

    graph = _Graph()
    rows, cols = network.size
    scaled = graph.node("Mul", [
        graph.node("Sub", [graph.node("Cast", ["chips"], to=TensorProto.FLOAT),
                           graph.const("means", np.array(network.means, dtype=np.float32))]),
        graph.const("scale", np.array(1 / 256, dtype=np.float32))])  # (pixel - mean) / 256, exact in float32
    current, shape = graph.node("Transpose", [scaled], perm=[0, 3, 1, 2]), (3, rows, cols)
    tags: dict[int, tuple[str, tuple[int, int, int]]] = {}
    layers = network.layers
    index = 0
    while index < len(layers):
        layer = layers[index]
        attrs, weights = layer.attrs, layer.weights
        if layer.kind == "con":
            kernel, bias = weights["weights"].astype(np.float64), weights["bias"].astype(np.float64)
            following = layers[index + 1] if index + 1 < len(layers) else None
            if following is not None and following.kind == "affine" and following.attrs["mode"] == 0:
                gamma = following.weights["gamma"].reshape(-1).astype(np.float64)  # folded into the convolution
                kernel = kernel * gamma[:, None, None, None]
                bias = bias * gamma + following.weights["beta"].reshape(-1)
                index += 1
            pads = [attrs["pad_y"], attrs["pad_x"], attrs["pad_y"], attrs["pad_x"]]
            current = graph.node("Conv", [current, graph.const("w", kernel.astype(np.float32)),
                                          graph.const("b", bias.astype(np.float32))],
                                 kernel_shape=list(kernel.shape[2:]), strides=[attrs["stride_y"], attrs["stride_x"]],
                                 pads=pads)
            shape = (kernel.shape[0], 1 + (shape[1] + 2 * attrs["pad_y"] - kernel.shape[2]) // attrs["stride_y"],
                     1 + (shape[2] + 2 * attrs["pad_x"] - kernel.shape[3]) // attrs["stride_x"])
        elif layer.kind == "affine":
            # one factor per channel (CONV_MODE) or per value (FC_MODE: gamma is channels x rows x cols)
            gamma = weights["gamma"].reshape(-1, 1, 1) if attrs["mode"] == 0 else weights["gamma"]
            beta = weights["beta"].reshape(-1, 1, 1) if attrs["mode"] == 0 else weights["beta"]
            current = graph.node("Add", [graph.node("Mul", [current, graph.const("gamma", gamma)]),
                                         graph.const("beta", beta)])
        elif layer.kind == "relu":
            current = graph.node("Relu", [current])
        elif layer.kind in ("max_pool", "avg_pool"):
            window, strides = [attrs["rows"], attrs["cols"]], [attrs["stride_y"], attrs["stride_x"]]
            pads = [attrs["pad_y"], attrs["pad_x"], attrs["pad_y"], attrs["pad_x"]]
            if layer.kind == "avg_pool" and any(pads):
                raise ConversionError("average pooling with padding is not supported")
            current = graph.node("MaxPool" if layer.kind == "max_pool" else "AveragePool", [current],
                                 kernel_shape=window, strides=strides, pads=pads)
            shape = (shape[0], 1 + (shape[1] + 2 * pads[0] - window[0]) // strides[0],
                     1 + (shape[2] + 2 * pads[1] - window[1]) // strides[1])
        elif layer.kind == "avg_pool_everything":
            current, shape = graph.node("GlobalAveragePool", [current]), (shape[0], 1, 1)
        elif layer.kind == "tag":
            tags[attrs["id"]] = (current, shape)
        elif layer.kind == "skip":
            current, shape = tags[attrs["id"]]
        elif layer.kind == "add_prev":
            other, other_shape = tags[attrs["id"]]
            target = (max(shape[0], other_shape[0]), max(shape[1], other_shape[1]), max(shape[2], other_shape[2]))
            current = graph.node("Add", [_pad_to(graph, current, shape, target),
                                         _pad_to(graph, other, other_shape, target)])
            shape = target
        elif layer.kind == "fc":
            matrix = weights["weights"]
            if matrix.shape[0] != shape[0] * shape[1] * shape[2]:
                raise ConversionError(f"fc layer expects {matrix.shape[0]} inputs, gets {shape}")
            current = graph.node("MatMul", [graph.node("Flatten", [current], axis=1), graph.const("fc", matrix)])
            if "bias" in weights:
                current = graph.node("Add", [current, graph.const("fc_bias", weights["bias"])])
            shape = (matrix.shape[1], 1, 1)
        else:
            raise ConversionError(f"unsupported layer {layer.kind}")
        index += 1
    graph.nodes.append(helper.make_node("Identity", [current], ["embedding"], name="embedding"))
    model = helper.make_model(
        helper.make_graph(graph.nodes, "dlib_face_resnet",
                          [helper.make_tensor_value_info("chips", TensorProto.UINT8, ["n", rows, cols, 3])],
                          [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["n", shape[0]])],
                          graph.inits),
        opset_imports=[helper.make_opsetid("", _OPSET)], producer_name="hacho")
    model.ir_version = 8  # readable by every onnxruntime the project allows (>= 1.17)
    checker.check_model(model)
    return model


def converted_model(dat: Path, cache_dir: Path) -> Path:
    """The cached ONNX file of `dat`, converting it first when the cache lacks it (blocking, seconds)."""
    try:
        digest = _sha256(dat)
    except OSError as err:
        raise ConversionError(f"{dat}: cannot read ({err.strerror})") from err
    target = cache_dir / f"dlib_resnet_{digest}_v{CONVERTER_VERSION}.onnx"
    if target.is_file():
        return target
    started = time.monotonic()
    try:
        model = build_graph(read_network(dat))
    except DlibFormatError as err:
        raise ConversionError(str(err)) from err
    except ImportError as err:
        raise ConversionError(f"cannot convert {dat}: {err}") from err
    try:
        _write(target, model.SerializeToString())
    except OSError as err:
        raise ConversionError(f"cannot write {target}: {err}") from err
    _LOGGER.info("Converted %s to %s in %.1f s", dat.name, target, time.monotonic() - started)
    return target


def _write(target: Path, data: bytes) -> None:
    """Write atomically: another process converting at once writes the same bytes under the same name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=target.name, suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _session(path: Path, threads: int) -> Any:
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting threads
        # as the ANPR readers: no arena or memory patterns (the same speed here, a few MiB less held)
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own untyped errors
        raise ConversionError(f"cannot load {path}: {err}") from err


class OnnxEmbedder:
    """dlib's face ResNet in onnxruntime: embeddings of aligned 150x150 RGB chips."""

    def __init__(self, dat: Path, cache_dir: Path, threads: int = 1) -> None:
        self.path = converted_model(dat, cache_dir)
        try:
            self._session = _session(self.path, threads)
        except ConversionError:  # a damaged cache file (a full disk, a crash): convert once more
            self.path.unlink(missing_ok=True)
            self.path = converted_model(dat, cache_dir)
            self._session = _session(self.path, threads)

    def __call__(self, chips: np.ndarray) -> np.ndarray:
        """N x 128 embeddings of N x 150 x 150 x 3 uint8 RGB chips."""
        return np.asarray(self._session.run(None, {"chips": np.ascontiguousarray(chips, dtype=np.uint8)})[0])
