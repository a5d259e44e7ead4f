"""Fine-tuning one block more of the recogniser on CPU with numpy: the feed-forward half of PP-OCRv6's
last transformer block (layer norm, 120 -> 240 swish -> 120, residual, layer norm) and the output layer.

The graph is cut one step earlier than `training.HeadTrainer` cuts it: onnxruntime gives each crop's
residual stream after the last attention (T x 120) and the convolutional shortcut that is added before
the output layer (T x 120); everything after is re-implemented in numpy, exactly as the graph computes it
(checked against onnxruntime in the tests), and trained with the CTC loss by hand-written backprop, the
weights pulled towards the committed ones. The trained weights replace the same initialisers in a copy
of the ONNX file, so its format does not change:

    h = LN3(x0); y = x0 + swish(h @ W6 + b6) @ W7 + b7; f = LN4(y) + shortcut; logits = f @ W8 + b8

Blocking: run in a worker process or a CLI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .training import HEAD_BIAS, HEAD_WEIGHT, HeadTrainer, TrainResult, ctc_loss_and_grad, fit, split_held_back

__all__ = ["BlockResult", "BlockTrainer"]

BLOCK_INPUT = "p2o.pd_op.add.74.0"  # residual stream after the last attention, (1, T, 120)
SHORTCUT = "p2o.pd_op.swish.0.0"  # convolutional features added before the output layer, (1, 120, 1, T)
NORM_IN = ("helper.reshape.6", "helper.reshape.7")  # LN3 scale and shift
NORM_OUT = ("helper.reshape.8", "helper.reshape.9")  # LN4 scale and shift
TRAINED = ("linear_6.w_0", "linear_6.b_0", "linear_7.w_0", "linear_7.b_0", HEAD_WEIGHT, HEAD_BIAS)
EPS = 1e-6


def _norm(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Layer norm without scale and shift over the last axis, and 1/std per row."""
    centred = x - x.mean(axis=1, keepdims=True)
    inv = 1.0 / np.sqrt((centred * centred).mean(axis=1, keepdims=True) + EPS)
    return centred * inv, inv


@dataclass(slots=True)
class BlockResult(TrainResult):
    """The trained tensors by initialiser name (`weight` and `bias` are the output layer's)."""

    tensors: dict[str, np.ndarray]


class BlockTrainer(HeadTrainer):
    """Frozen features up to the last attention, and the last feed-forward block with the output layer
    trained on labelled crops. `features` gives T x 240: the block input and the shortcut, side by side."""

    def __init__(self, model_path: Path) -> None:
        import onnx
        import onnxruntime as ort
        from onnx import numpy_helper

        super().__init__(model_path)
        model = onnx.load(str(model_path))
        weights = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
        self.original = {name: weights[name] for name in TRAINED}
        self.norm_in = (weights[NORM_IN[0]], weights[NORM_IN[1]])
        self.norm_out = (weights[NORM_OUT[0]], weights[NORM_OUT[1]])
        for name in (BLOCK_INPUT, SHORTCUT):
            model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        self._block_session = ort.InferenceSession(model.SerializeToString(), options,
                                                   providers=["CPUExecutionProvider"])

    def features(self, crop: np.ndarray) -> np.ndarray:
        from .reader import crop_variants

        prepared = self.recognizer._prepare(crop_variants(crop, 1)[0])[None]
        block, shortcut = self._block_session.run([BLOCK_INPUT, SHORTCUT],
                                                  {self._block_session.get_inputs()[0].name: prepared})
        return np.concatenate([block[0], shortcut[0, :, 0, :].T], axis=1).astype(np.float64)

    def forward(self, x: np.ndarray, p: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Logits (T x classes) of block features under the tensors `p`, and what backprop needs."""
        width = x.shape[1] // 2
        x0, shortcut = x[:, :width], x[:, width:]
        h = _norm(x0)[0] * self.norm_in[0] + self.norm_in[1]
        a = h @ p["linear_6.w_0"] + p["linear_6.b_0"]
        sig = 1.0 / (1.0 + np.exp(-a))
        g = a * sig
        y = x0 + g @ p["linear_7.w_0"] + p["linear_7.b_0"]
        y_hat, inv = _norm(y)
        f = y_hat * self.norm_out[0] + self.norm_out[1] + shortcut
        logits = f @ p[HEAD_WEIGHT] + p[HEAD_BIAS]
        return logits, {"h": h, "a": a, "sig": sig, "g": g, "y_hat": y_hat, "inv": inv, "f": f}

    def backward(self, grad: np.ndarray, p: dict[str, np.ndarray], c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Gradients of the tensors from the gradient of the logits."""
        d_f = grad @ p[HEAD_WEIGHT].T
        d_hat = d_f * self.norm_out[0]
        y_hat = c["y_hat"]
        d_y = c["inv"] * (d_hat - d_hat.mean(axis=1, keepdims=True)
                          - y_hat * (d_hat * y_hat).mean(axis=1, keepdims=True))
        d_g = d_y @ p["linear_7.w_0"].T
        d_a = d_g * (c["sig"] + c["a"] * c["sig"] * (1.0 - c["sig"]))
        return {HEAD_WEIGHT: c["f"].T @ grad, HEAD_BIAS: grad.sum(axis=0),
                "linear_7.w_0": c["g"].T @ d_y, "linear_7.b_0": d_y.sum(axis=0),
                "linear_6.w_0": c["h"].T @ d_a, "linear_6.b_0": d_a.sum(axis=0)}

    def block_loss(self, features: Sequence[np.ndarray], texts: Sequence[str], p: dict[str, np.ndarray]) -> float:
        losses = [ctc_loss_and_grad(self.forward(x, p)[0], self.target(t))[0]
                  for x, t in zip(features, texts, strict=True)]
        return float(np.mean(losses)) if losses else 0.0

    def train_block(self, features: Sequence[np.ndarray], texts: Sequence[str], *, epochs: int = 8,
                    lr: float = 5e-4, l2: float = 1e-2, seed: int = 18, validation: float = 0.15,
                    extra: Sequence[tuple[int, np.ndarray]] = (),
                    progress: Callable[[int, int, float], None] | None = None) -> BlockResult:
        """Adam on the CTC loss, every tensor pulled towards the committed one (`l2`); held-back share,
        augmented copies (`extra`) and the kept epoch as in `ContextTrainer.train_context`."""
        rng = np.random.default_rng(seed)
        train, held = split_held_back(features, [self.target(t) for t in texts], validation, rng, extra)
        params = {k: v.copy() for k, v in self.original.items()}

        def gradient(x: np.ndarray, target: list[int]) -> tuple[float, dict[str, np.ndarray]]:
            logits, cache = self.forward(x, params)
            loss, grad = ctc_loss_and_grad(logits, target)
            grads = self.backward(grad, params, cache)
            for name, value in grads.items():
                value += l2 * (params[name] - self.original[name])
            return loss, grads

        kept, losses = fit(params, gradient, train, held,
                           lambda x, t: ctc_loss_and_grad(self.forward(x, params)[0], t)[0],
                           epochs=epochs, lr=lr, rng=rng, progress=progress)
        return BlockResult(kept[HEAD_WEIGHT], kept[HEAD_BIAS], losses, tensors=kept)

    def save(self, result: TrainResult, path: Path, note: str = "") -> Path:
        """Write the model with the trained tensors replaced (the graph unchanged)."""
        if not isinstance(result, BlockResult):
            return super().save(result, path, note)
        import onnx
        from onnx import numpy_helper

        super().save(result, path, note)
        model = onnx.load(str(path))
        for init in model.graph.initializer:
            if init.name in result.tensors:
                init.CopyFrom(numpy_helper.from_array(result.tensors[init.name].astype(np.float32), init.name))
        onnx.save(model, str(path))
        return path
