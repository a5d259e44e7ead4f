"""A torch-free reader of an ultralytics YOLOv8 detection checkpoint (`.pt`): the module tree, weights and yaml.

A `.pt` is a zip holding `<name>/data.pkl` (a pickle) and `<name>/data/<key>` (raw tensor storages). The pickle is
read by a restricted unpickler: the few torch rebuild functions and storage types are mapped to numpy, and every
`torch.nn` or `ultralytics` class becomes a plain `Record` holding the state the pickle gives it. Any other global
is refused, so no code named by the file ever runs.
"""

from __future__ import annotations

import collections
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

__all__ = ["Checkpoint", "CheckpointError", "Record", "read_checkpoint", "restricted_load"]

_STORAGE_TYPES: Final = {
    "HalfStorage": np.float16,
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "BoolStorage": np.bool_,
    "ByteStorage": np.uint8,
}
# classes turned into records: layers, containers, the training objects ultralytics saves beside them, and
# the omegaconf containers that early ultralytics releases (8.0.x) kept the training arguments in
_RECORD_PREFIXES: Final = ("torch.nn.modules.", "ultralytics.", "omegaconf.")
_PLAIN: Final[dict[str, Any]] = {
    "collections.OrderedDict": collections.OrderedDict,
    "collections.defaultdict": collections.defaultdict,
    "builtins.set": set,
    "__builtin__.set": set,
    "builtins.dict": dict,
    "__builtin__.dict": dict,
    "typing.Any": None,  # a type annotation in omegaconf's metadata
}


class CheckpointError(Exception):
    """The file is not a YOLOv8 checkpoint this reader understands, or it names a refused global."""


class Record:
    """A pickled object of a class that is not imported: its class name, constructor arguments and state."""

    qualname = ""

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def attr(self, key: str, default: Any = None) -> Any:
        """A value of the object's state (the instance dict pickled by torch)."""
        if isinstance(self.state, dict):
            return self.state.get(key, default)
        return default

    @property
    def kind(self) -> str:
        """The class name without its module (`Conv`, `C2f`, `Conv2d`)."""
        return self.qualname.rsplit(".", 1)[-1]

    def children(self) -> dict[str, Record]:
        """The sub-modules in order (torch's `_modules`)."""
        modules = self.attr("_modules") or {}
        return {str(k): v for k, v in modules.items() if isinstance(v, Record)}

    def child(self, name: str) -> Record:
        found = self.children().get(name)
        if found is None:
            raise CheckpointError(f"{self.kind} has no sub-module {name!r}")
        return found

    def tensor(self, name: str) -> np.ndarray:
        """A parameter or buffer as a numpy array (torch's `_parameters` / `_buffers`)."""
        for key in ("_parameters", "_buffers"):
            value = (self.attr(key) or {}).get(name)
            if value is not None:
                return np.asarray(value)
        raise CheckpointError(f"{self.kind} has no tensor {name!r}")


def _record_class(qualname: str) -> type[Record]:
    return type(qualname.rsplit(".", 1)[-1], (Record,), {"qualname": qualname})


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                    *_rest: Any) -> np.ndarray:
    if not size:
        return storage[offset : offset + 1].reshape(()).copy()
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size, strides=[s * item for s in stride])
    return np.array(view)  # a copy: the storage may be shared with other tensors


def _rebuild_parameter(data: np.ndarray, *_rest: Any) -> np.ndarray:
    return data


def _size(*args: Any) -> tuple[int, ...]:
    return tuple(args[0]) if args else ()


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, storages: dict[str, np.ndarray] | None = None) -> None:
        super().__init__(file)
        self._storages = storages or {}

    def find_class(self, module: str, name: str) -> Any:
        qualname = f"{module}.{name}"
        if qualname == "torch._utils._rebuild_tensor_v2":
            return _rebuild_tensor
        if qualname == "torch._utils._rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        if qualname in _PLAIN:
            return _PLAIN[qualname]
        if qualname == "torch.Size":
            return _size
        if qualname == "torch.device" or qualname.startswith(_RECORD_PREFIXES):
            return _record_class(qualname)
        raise CheckpointError(f"refused global {qualname} in the checkpoint")

    def persistent_load(self, pid: Any) -> Any:
        # ('storage', storage type, key, location, element count)
        if not isinstance(pid, tuple) or len(pid) < 3 or pid[0] != "storage":
            raise CheckpointError(f"unexpected persistent id {pid!r}")
        dtype, key = pid[1], str(pid[2])
        if dtype not in _STORAGE_TYPES.values():
            raise CheckpointError(f"unexpected storage type {dtype!r}")
        if key not in self._storages:
            raise CheckpointError(f"storage {key} missing from the checkpoint")
        return np.frombuffer(self._storages[key], dtype=dtype)


def restricted_load(data: bytes, storages: dict[str, Any] | None = None) -> Any:
    """Unpickle `data` allowing only the globals of a YOLOv8 checkpoint (CheckpointError otherwise)."""
    import io

    try:
        return _Unpickler(io.BytesIO(data), storages).load()
    except CheckpointError:
        raise
    except Exception as err:  # a malformed pickle raises many kinds of errors
        raise CheckpointError(f"cannot read the pickle: {err}") from err


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a YOLOv8 checkpoint holds for inference."""

    model: Record  # the DetectionModel: model._modules['model'] is the layer list
    yaml: dict[str, Any]  # backbone/head spec, nc
    stride: tuple[float, ...]
    extra: dict[str, Any]  # the checkpoint's other top-level keys (version, date, train_args ...)

    @property
    def layers(self) -> list[Record]:
        return list(self.model.child("model").children().values())

    @property
    def names(self) -> dict[int, str]:
        return dict(self.model.attr("names") or {})


def read_checkpoint(path: Path) -> Checkpoint:
    """The model of an ultralytics `.pt` (the EMA model when present, else `model`)."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise CheckpointError(f"{path}: not a torch checkpoint (no single data.pkl)")
            prefix = pickles[0][: -len("data.pkl")]
            storages = {n[len(prefix) + 5 :]: archive.read(n) for n in archive.namelist()
                        if n.startswith(prefix + "data/")}
            data = archive.read(pickles[0])
    except (OSError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{path}: cannot read ({err})") from err
    top = restricted_load(data, storages)
    if not isinstance(top, dict):
        raise CheckpointError(f"{path}: not an ultralytics checkpoint")
    model = top.get("ema") or top.get("model")
    if not isinstance(model, Record) or not isinstance(model.attr("yaml"), dict):
        raise CheckpointError(f"{path}: no model with a yaml spec")
    stride = np.asarray(model.tensor("stride") if "stride" in (model.attr("_buffers") or {}) else model.attr("stride"))
    extra = {k: v for k, v in top.items() if k not in ("model", "ema", "optimizer")}
    return Checkpoint(model, dict(model.attr("yaml")), tuple(float(s) for s in stride.ravel()), extra)
