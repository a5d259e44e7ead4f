"""A reader of dlib's serialized face-embedding network (`dlib_face_recognition_resnet_model_v1.dat`).

Pure Python and numpy, written from dlib's serialization format (dlib/serialize.h, dlib/dnn/core.h,
layers.h, input.h, loss.h, tensor.h): integers are a control byte (size in the low nibble, 0x80 for a
negative value) followed by that many little-endian bytes; floats are an integer mantissa and exponent;
strings are a length and their bytes; tensors are a version (2), their four dimensions and little-endian
float32 values. A network is written from the outside in: the loss layer (its version, its own details,
then its subnetwork), then one version per layer down to the input (2 for a computational layer, 1 for a
tag or skip layer, 3 for the layer holding the input), the input layer, and the computational layers'
details from the input upwards, each followed by its training state (flags and cached tensors, skipped).

Tags and skips carry no identifier in the file, so the topology is given here (`FACE_RESNET`, dlib's
`anet_type` of dnn_face_recognition_ex.cpp) and every layer read is checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

__all__ = ["FACE_RESNET", "DlibFormatError", "DlibLayer", "DlibNetwork", "read_network"]

_INPUT_NAME: Final = "input_rgb_image_sized"


class DlibFormatError(ValueError):
    """The file is not the dlib network expected (truncated, corrupted, or another architecture)."""


@dataclass(slots=True)
class DlibLayer:
    """One layer, in forward order: `kind` (con, affine, relu, max_pool, avg_pool, add_prev, tag, skip, fc),
    its integer attributes and its weights."""

    kind: str
    attrs: dict[str, int] = field(default_factory=dict)
    weights: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(slots=True)
class DlibNetwork:
    """The input layer's per-channel means (R, G, B), the input size and the layers from input to output."""

    means: tuple[float, float, float]
    size: tuple[int, int]
    layers: list[DlibLayer]


def _block(filters: int, stride: int, below: list[str]) -> list[str]:
    return ["affine", f"con:{filters}:1", "relu", "affine", f"con:{filters}:{stride}", *below]


def _ares(filters: int, below: list[str]) -> list[str]:  # relu<add_prev1<block<N,affine,1,tag1<...>>>>
    return ["relu", "add_prev:1", *_block(filters, 1, ["tag:1", *below])]


def _ares_down(filters: int, below: list[str]) -> list[str]:
    # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,affine,2,tag1<...>>>>>>>
    return ["relu", "add_prev:2", "avg_pool", "skip:1", "tag:2", *_block(filters, 2, ["tag:1", *below])]


def _face_resnet() -> list[str]:
    """dlib's anet_type, outermost layer first (below the loss): fc_no_bias<128>, avg_pool_everything, the
    residual levels (256 down, 256 x3 with one down, 128 x3, 64 x4, 32 x3), max_pool, relu, affine, con 7x7."""
    net = ["max_pool", "relu", "affine", "con:32:2"]
    for filters, plain, down in ((32, 3, False), (64, 3, True), (128, 2, True), (256, 2, True), (256, 0, True)):
        if down:
            net = _ares_down(filters, net)
        for _ in range(plain):
            net = _ares(filters, net)
    return ["fc:128", "avg_pool_everything", *net]


FACE_RESNET: Final = tuple(_face_resnet())


class _Reader:
    """dlib's primitive types from a byte string, with errors that name the file and the offset."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def fail(self, what: str) -> DlibFormatError:
        return DlibFormatError(f"{self.path}: {what} at byte {self.pos} of {len(self.data)}")

    def take(self, count: int) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise self.fail("unexpected end of file (truncated?)")
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def read_int(self) -> int:
        control = self.take(1)[0]
        size = control & 0x0F
        if size > 8 or control & 0x70:
            raise self.fail(f"bad integer control byte {control:#x}")
        value = int.from_bytes(self.take(size), "little")
        return -value if control & 0x80 else value

    def read_float(self) -> float:
        mantissa, exponent = self.read_int(), self.read_int()
        if exponent >= 32000:  # dlib's markers for inf, -inf and nan
            raise self.fail("non-finite number")
        return float(mantissa * 2.0 ** exponent)

    def read_bool(self) -> bool:
        value = self.take(1)
        if value not in (b"0", b"1"):
            raise self.fail(f"bad boolean {value!r}")
        return value == b"1"

    def read_string(self, limit: int = 256) -> str:
        length = self.read_int()
        if not 0 <= length <= limit:
            raise self.fail(f"implausible string length {length}")
        return self.take(length).decode("latin-1")

    def expect(self, value: int, what: str) -> None:
        found = self.read_int()
        if found != value:
            raise self.fail(f"{what}: expected {value}, found {found}")

    def read_tensor(self) -> np.ndarray:
        self.expect(2, "tensor version")
        shape = tuple(self.read_int() for _ in range(4))
        if min(shape) < 0 or int(np.prod(shape)) > 64 << 20:
            raise self.fail(f"implausible tensor shape {shape}")
        count = int(np.prod(shape))
        return np.frombuffer(self.take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)

    def read_alias(self) -> tuple[int, int, int, int]:
        self.expect(1, "alias tensor version")
        n, k, nr, nc = (self.read_int() for _ in range(4))
        return n, k, nr, nc

    def peek_string(self, value: str) -> bool:
        raw = value.encode()
        return self.data[self.pos:self.pos + 2 + len(raw)] == bytes((1, len(raw))) + raw


def read_network(path: Path) -> DlibNetwork:
    """Read and check the face ResNet at `path` (blocking). Raises DlibFormatError naming the file."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DlibFormatError(f"{path}: cannot read ({err.strerror})") from err
    reader = _Reader(data, path)
    reader.expect(1, "loss layer version")
    loss = reader.read_string()
    if loss != "loss_metric_2":
        raise reader.fail(f"expected dlib's loss_metric_2, found {loss!r}")
    reader.read_float(), reader.read_float()  # margin and distance threshold: training only
    versions: list[int] = []  # outermost first; the last is the version of the layer holding the input
    while not reader.peek_string(_INPUT_NAME):
        versions.append(reader.read_int())
        if len(versions) > len(FACE_RESNET):
            raise reader.fail("no input layer where dlib's face ResNet has one")
    if len(versions) != len(FACE_RESNET):
        raise reader.fail(f"{len(versions)} layers where dlib's face ResNet has {len(FACE_RESNET)}")
    means, size = _input(reader)
    layers: list[DlibLayer] = []
    for index, spec in enumerate(reversed(FACE_RESNET)):  # forward order: the input side first
        kind, _, rest = spec.partition(":")
        version = versions[-1 - index]
        if kind in ("tag", "skip"):
            if version != 1:
                raise reader.fail(f"layer {index} ({spec}): version {version} where a {kind} layer has 1")
            layers.append(DlibLayer(kind, {"id": int(rest)}))
            continue
        if version not in ((2, 3) if index == 0 else (1, 2)):
            raise reader.fail(f"layer {index} ({spec}): unknown version {version}")
        layers.append(_details(reader, spec))
        _training_state(reader, first=index == 0, version=version)
    if reader.pos != len(data):
        raise reader.fail("unexpected data after the network")
    return DlibNetwork(means, size, layers)


def _input(reader: _Reader) -> tuple[tuple[float, float, float], tuple[int, int]]:
    reader.read_string()  # input_rgb_image_sized (peeked)
    means = (reader.read_float(), reader.read_float(), reader.read_float())
    size = (reader.read_int(), reader.read_int())
    if not all(0 <= mean <= 255 for mean in means) or not all(0 < side <= 4096 for side in size):
        raise reader.fail(f"implausible input layer (means {means}, size {size})")
    return means, size


def _training_state(reader: _Reader, *, first: bool, version: int) -> None:
    """What add_layer writes after a layer's details: three flags and the tensors of training (not used)."""
    for _ in range(3):
        reader.read_bool()
    reader.read_tensor(), reader.read_tensor()  # x_grad, cached_output
    if first:
        reader.read_tensor()  # grad_final
        if version >= 3:
            reader.read_int()  # sample expansion factor
    elif version >= 2:
        reader.read_tensor()  # params_grad


def _details(reader: _Reader, spec: str) -> DlibLayer:
    """One computational layer's own record, checked against what the architecture puts there."""
    kind, _, rest = spec.partition(":")
    name = reader.read_string()
    expected = {"con": ("con_4",), "affine": ("affine_",), "relu": ("relu_",), "max_pool": ("max_pool_2",),
                "avg_pool": ("avg_pool_2",), "avg_pool_everything": ("avg_pool_2",), "add_prev": ("add_prev_",),
                "fc": ("fc_2",)}[kind]
    if name not in expected:
        raise reader.fail(f"layer {spec}: found {name!r}, expected {' or '.join(expected)}")
    if kind == "con":
        return _con(reader, spec)
    if kind == "affine":
        params = reader.read_tensor().reshape(-1)
        gamma, beta = reader.read_alias(), reader.read_alias()
        mode = reader.read_int()
        count = int(np.prod(gamma))
        if gamma != beta or params.size != 2 * count or mode not in (0, 1):
            raise reader.fail(f"inconsistent affine layer (gamma {gamma}, beta {beta}, {params.size} values)")
        return DlibLayer(kind, {"mode": mode}, {"gamma": params[:count].reshape(gamma[1:]),
                                                "beta": params[count:].reshape(beta[1:])})
    if kind in ("max_pool", "avg_pool", "avg_pool_everything"):
        rows, cols, stride_y, stride_x, pad_y, pad_x = (reader.read_int() for _ in range(6))
        if (kind == "avg_pool_everything") != (rows == 0 and cols == 0) or min(stride_y, stride_x) < 1:
            raise reader.fail(f"layer {spec}: unexpected pooling window {rows}x{cols}")
        return DlibLayer(kind, {"rows": rows, "cols": cols, "stride_y": stride_y, "stride_x": stride_x,
                                "pad_y": pad_y, "pad_x": pad_x})
    if kind == "add_prev":
        return DlibLayer(kind, {"id": int(rest)})
    if kind == "fc":
        outputs, inputs = reader.read_int(), reader.read_int()
        params = reader.read_tensor().reshape(-1)
        weights, _biases = reader.read_alias(), reader.read_alias()
        bias_mode = reader.read_int()  # dlib's fc_bias_mode: FC_HAS_BIAS = 0, FC_NO_BIAS = 1
        has_bias = bias_mode == 0
        for _ in range(4):
            reader.read_float()  # learning rate and weight decay multipliers
        if outputs != int(rest) or weights != (inputs, outputs, 1, 1) or bias_mode not in (0, 1) \
                or params.size != inputs * outputs + (outputs if has_bias else 0):
            raise reader.fail(f"inconsistent fc layer ({inputs} to {outputs}, weights {weights})")
        layer = DlibLayer(kind, {"inputs": inputs, "outputs": outputs},
                          {"weights": params[:inputs * outputs].reshape(inputs, outputs)})
        if has_bias:
            layer.weights["bias"] = params[inputs * outputs:]
        return layer
    return DlibLayer(kind)


def _con(reader: _Reader, spec: str) -> DlibLayer:
    _, filters_expected, stride_expected = spec.split(":")
    params = reader.read_tensor().reshape(-1)
    filters, rows, cols, stride_y, stride_x, pad_y, pad_x = (reader.read_int() for _ in range(7))
    shape, bias = reader.read_alias(), reader.read_alias()
    for _ in range(4):
        reader.read_float()  # learning rate and weight decay multipliers
    size = int(np.prod(shape))
    if (filters, stride_y, stride_x) != (int(filters_expected), int(stride_expected), int(stride_expected)) \
            or shape[0] != filters or shape[2:] != (rows, cols) or bias != (1, filters, 1, 1) \
            or params.size != size + filters:
        raise reader.fail(f"layer {spec}: unexpected convolution ({filters} filters {rows}x{cols}, "
                          f"stride {stride_y}, weights {shape})")
    return DlibLayer("con", {"stride_y": stride_y, "stride_x": stride_x, "pad_y": pad_y, "pad_x": pad_x},
                     {"weights": params[:size].reshape(shape), "bias": params[size:]})
