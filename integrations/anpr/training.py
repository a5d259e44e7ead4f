"""Fine-tuning the recogniser's output layer on CPU with numpy: the PP-OCR backbone stays frozen (its
per-frame features are computed once per crop by onnxruntime), and only the last linear layer (features
x plate characters + CTC blank) is trained with the CTC loss, so a few thousand crops train in minutes on
two cores with nothing beyond numpy and onnx. The result is a new ONNX file with only that layer's
weights replaced (`context_head.py` trains a larger head on the same features, with the same CTC loss and
`fit`). Blocking: run in a worker process or a CLI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .reader import PLATE_CHARS, Recognizer, crop_variants

__all__ = ["HeadTrainer", "TrainResult", "adam_step", "ctc_loss_and_grad", "fit", "split_held_back"]

Sample = tuple[np.ndarray, list[int]]  # a crop's features and its target class ids

HEAD_WEIGHT = "linear_8.w_0"
HEAD_BIAS = "linear_8.b_0"


def ctc_loss_and_grad(logits: np.ndarray, target: Sequence[int]) -> tuple[float, np.ndarray]:
    """CTC negative log-likelihood of `target` (class ids, blank is 0) under per-frame `logits` (T x C),
    and its gradient with respect to the logits (softmax folded in)."""
    t_len, _classes = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    ext = [0]
    for c in target:
        ext += [c, 0]
    s_len = len(ext)
    neg = -1e30
    alpha = np.full((t_len, s_len), neg)
    beta = np.full((t_len, s_len), neg)
    alpha[0, 0] = logp[0, 0]
    if s_len > 1:
        alpha[0, 1] = logp[0, ext[1]]
    skip = np.array([s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2] for s in range(s_len)])
    for t in range(1, t_len):
        prev = alpha[t - 1]
        a = prev.copy()
        a[1:] = np.logaddexp(a[1:], prev[:-1])
        a[2:] = np.where(skip[2:], np.logaddexp(a[2:], prev[:-2]), a[2:])
        alpha[t] = a + logp[t, ext]
    beta[-1, -1] = logp[-1, ext[-1]]
    if s_len > 1:
        beta[-1, -2] = logp[-1, ext[-2]]
    skip_next = np.array([s + 2 < s_len and ext[s + 2] != 0 and ext[s + 2] != ext[s] for s in range(s_len)])
    for t in range(t_len - 2, -1, -1):
        nxt = beta[t + 1]
        b = nxt.copy()
        b[:-1] = np.logaddexp(b[:-1], nxt[1:])
        b[:-2] = np.where(skip_next[:-2], np.logaddexp(b[:-2], nxt[2:]), b[:-2])
        beta[t] = b + logp[t, ext]
    total = np.logaddexp(alpha[-1, -1], alpha[-1, -2]) if s_len > 1 else alpha[-1, -1]
    if total < -1e29:  # the target cannot fit in T frames
        return 0.0, np.zeros_like(logits)
    post = alpha + beta - logp[:, ext]  # log of the joint over paths through (t, s)
    occupancy = np.zeros_like(logits)
    for s, c in enumerate(ext):
        occupancy[:, c] += np.exp(post[:, s] - total)
    grad = np.exp(logp) - occupancy
    return float(-total), grad


def adam_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray],
              moments: dict[str, tuple[np.ndarray, np.ndarray]], step: int, lr: float) -> None:
    """One Adam update of `params` in place (`moments` start at zeros, `step` counts from 1)."""
    for name, param in params.items():
        g = grads[name]
        m, v = moments.setdefault(name, (np.zeros_like(param), np.zeros_like(param)))
        m *= 0.9
        m += 0.1 * g
        v *= 0.999
        v += 0.001 * g * g
        param -= lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)


def split_held_back(features: Sequence[np.ndarray], targets: Sequence[list[int]], validation: float,
                    rng: np.random.Generator, extra: Sequence[tuple[int, np.ndarray]] = ()
                    ) -> tuple[list[Sample], list[Sample]]:
    """(training, held back): a `validation` share of the crops held back (none under 10 crops); `extra`
    are features of augmented copies, each with the index of its crop, trained on unless their crop is
    held back."""
    order = rng.permutation(len(features))
    held = max(1, int(len(features) * validation)) if len(features) >= 10 else 0
    held_set = {int(i) for i in order[:held]}
    train = [(features[i], targets[i]) for i in order[held:]]
    train += [(x, targets[i]) for i, x in extra if i < len(features) and i not in held_set]
    return train, [(features[i], targets[i]) for i in order[:held]]


def fit(params: dict[str, np.ndarray], gradient: Callable[[np.ndarray, list[int]], tuple[float, dict[str, np.ndarray]]],
        train: Sequence[Sample], held: Sequence[Sample], loss: Callable[[np.ndarray, list[int]], float], *,
        epochs: int, lr: float, rng: np.random.Generator,
        progress: Callable[[int, int, float], None] | None = None) -> tuple[dict[str, np.ndarray], list[float]]:
    """Adam over `params` (updated in place; `gradient(x, target)` reads them) for `epochs` passes in random
    order; returns the parameters of the epoch with the lowest mean `loss` on the `held` samples (the
    starting ones when no epoch beats them; the last ones when nothing is held back) and the mean training
    loss per epoch."""

    def held_loss() -> float:
        return float(np.mean([loss(x, t) for x, t in held])) if held else 0.0

    best = (held_loss(), {k: v.copy() for k, v in params.items()})
    moments: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    losses: list[float] = []
    step = 0
    for epoch in range(epochs):
        total = 0.0
        for i in rng.permutation(len(train)):
            value, grads = gradient(*train[i])
            total += value
            step += 1
            adam_step(params, grads, moments, step, lr)
        losses.append(total / max(len(train), 1))
        if held and (value := held_loss()) < best[0]:
            best = (value, {k: v.copy() for k, v in params.items()})
        if progress is not None:
            progress(epoch + 1, epochs, losses[-1])
    return (best[1] if held else {k: v.copy() for k, v in params.items()}), losses


@dataclass(slots=True)
class TrainResult:
    weight: np.ndarray
    bias: np.ndarray
    losses: list[float]


class HeadTrainer:
    """Frozen features from a cut PP-OCR recogniser, and its output layer trained on labelled crops."""

    def __init__(self, model_path: Path) -> None:
        import onnx
        from onnx import numpy_helper

        self.model_path = model_path
        model = onnx.load(str(model_path))
        weights = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        self.weight = weights[HEAD_WEIGHT].astype(np.float64)
        self.bias = weights[HEAD_BIAS].astype(np.float64)
        head = next(n for n in model.graph.node if n.op_type == "MatMul" and HEAD_WEIGHT in n.input)
        feature = next(i for i in head.input if i != HEAD_WEIGHT)
        model.graph.output.append(onnx.helper.make_tensor_value_info(feature, onnx.TensorProto.FLOAT, None))
        self._model_bytes = model.SerializeToString()
        self._feature = feature
        self.recognizer = Recognizer(model_path)
        chars = ["", *self.recognizer._chars[1:]]
        self._index = {c: i for i, c in enumerate(chars) if c}
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(self._model_bytes, options, providers=["CPUExecutionProvider"])

    def features(self, crop: np.ndarray) -> np.ndarray:
        """Per-frame features (T x F) of a crop, prepared as the reader reads it (band cut)."""
        prepared = self.recognizer._prepare(crop_variants(crop, 1)[0])[None]
        out = self._session.run([self._feature], {self._session.get_inputs()[0].name: prepared})[0]
        return np.asarray(out[0], np.float64)

    def target(self, text: str) -> list[int]:
        return [self._index[c] for c in text if c in self._index and c in PLATE_CHARS]

    def loss(self, features: Sequence[np.ndarray], texts: Sequence[str], w: np.ndarray, b: np.ndarray) -> float:
        """Mean CTC loss of labelled crops under an output layer."""
        losses = [ctc_loss_and_grad(x @ w + b, self.target(t))[0] for x, t in zip(features, texts, strict=True)]
        return float(np.mean(losses)) if losses else 0.0

    def train(self, features: Sequence[np.ndarray], texts: Sequence[str], *, epochs: int = 10,
              lr: float = 2e-3, l2: float = 1e-2, seed: int = 18, validation: float = 0.15,
              progress: Callable[[int, int, float], None] | None = None) -> TrainResult:
        """Adam on the CTC loss, the weights pulled towards the original ones (`l2`) so that a small set
        adjusts the layer rather than replacing it; a `validation` share of the crops is held back and the
        epoch with the lowest loss on it is kept (the original layer when no epoch beats it)."""
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(features))
        held = max(1, int(len(features) * validation)) if len(features) >= 10 else 0
        val_x = [features[i] for i in order[:held]]
        val_t = [texts[i] for i in order[:held]]
        features = [features[i] for i in order[held:]]
        texts = [texts[i] for i in order[held:]]
        w, b = self.weight.copy(), self.bias.copy()
        best = (self.loss(val_x, val_t, w, b), w.copy(), b.copy())
        moments: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        targets = [self.target(t) for t in texts]
        losses: list[float] = []
        step = 0
        for epoch in range(epochs):
            total = 0.0
            for i in rng.permutation(len(features)):
                x = features[i]
                loss, grad = ctc_loss_and_grad(x @ w + b, targets[i])
                total += loss
                g_w = x.T @ grad + l2 * (w - self.weight)
                g_b = grad.sum(axis=0)
                step += 1
                adam_step({"w": w, "b": b}, {"w": g_w, "b": g_b}, moments, step, lr)
            losses.append(total / max(len(features), 1))
            if val_x:
                val = self.loss(val_x, val_t, w, b)
                if val < best[0]:
                    best = (val, w.copy(), b.copy())
            if progress is not None:
                progress(epoch + 1, epochs, losses[-1])
        if val_x:
            return TrainResult(best[1], best[2], losses)
        return TrainResult(w, b, losses)

    def save(self, result: TrainResult, path: Path, note: str = "") -> Path:
        """Write the model with the trained output layer (everything else unchanged)."""
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(self.model_path))
        for init in model.graph.initializer:
            if init.name == HEAD_WEIGHT:
                init.CopyFrom(numpy_helper.from_array(result.weight.astype(np.float32), HEAD_WEIGHT))
            elif init.name == HEAD_BIAS:
                init.CopyFrom(numpy_helper.from_array(result.bias.astype(np.float32), HEAD_BIAS))
        if note:
            for old in [e for e in model.metadata_props if e.key == "fine_tuned"]:  # trained again
                model.metadata_props.remove(old)
            entry = model.metadata_props.add()
            entry.key, entry.value = "fine_tuned", note
        onnx.save(model, str(path))
        return path

    def extra(self) -> dict[str, Any]:
        return {"feature": self._feature, "shape": list(self.weight.shape)}
