"""A recogniser head with context over time, trained on CPU with numpy on the frozen PP-OCR features.

The committed output layer (`linear_8`: features x blank + plate characters) stays as the skip path, pulled
towards its original weights; beside it a residual path looks at three neighbouring time steps (the
features of t-1, t and t+1 concatenated, zero beyond the ends), a hidden ReLU layer and a second output
layer that starts at zero, so the untrained head reads exactly as the committed model does:

    logits[t] = x[t] @ W + b + relu([x[t-1], x[t], x[t+1]] @ W1 + b1) @ W2 + b2

Gradients go through the CTC loss of `training.ctc_loss_and_grad` by hand. The trained head is written
back into the ONNX graph as ordinary nodes (Pad, Slice, Concat, MatMul, Add, Relu) before the final
Softmax, so the reader, `evaluate` and `promote` load it like any other recogniser. Blocking: run in a
worker process or a CLI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .training import HEAD_BIAS, HeadTrainer, TrainResult, ctc_loss_and_grad, fit, split_held_back

__all__ = ["ContextResult", "ContextTrainer", "augment_crop", "context_frames"]

CONTEXT_PREFIX = "ctx_head"


def context_frames(x: np.ndarray) -> np.ndarray:
    """Each frame's features with its two neighbours' (T x 3F; zeros beyond the ends)."""
    pad = np.zeros((1, x.shape[1]), x.dtype)
    return np.concatenate([np.vstack([pad, x[:-1]]), x, np.vstack([x[1:], pad])], axis=1)


def augment_crop(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible other view of a plate crop: shifted and scaled by a few percent, brighter or darker,
    sometimes blurred (what the same plate looks like in the next frame or another camera)."""
    h, w = crop.shape[:2]
    scale = rng.uniform(0.92, 1.08)
    dx, dy = rng.uniform(-0.04, 0.04) * w, rng.uniform(-0.06, 0.06) * h
    matrix = np.array([[scale, 0, (1 - scale) * w / 2 + dx], [0, scale, (1 - scale) * h / 2 + dy]], np.float32)
    out = cv2.warpAffine(crop, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    gain, offset = rng.uniform(0.7, 1.3), rng.uniform(-25, 25)
    out = np.clip(out.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        k = int(rng.choice([3, 5]))
        out = cv2.GaussianBlur(out, (k, k), 0)
    return out


@dataclass(slots=True)
class ContextResult(TrainResult):
    """The trained head: the skip layer (`weight`, `bias`) and the residual path."""

    w1: np.ndarray = field(default_factory=lambda: np.zeros(0))
    b1: np.ndarray = field(default_factory=lambda: np.zeros(0))
    w2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    b2: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def logits(self, x: np.ndarray) -> np.ndarray:
        hidden = np.maximum(context_frames(x) @ self.w1 + self.b1, 0.0)
        out: np.ndarray = x @ self.weight + self.bias + hidden @ self.w2 + self.b2
        return out


def _strip_context(graph: Any) -> None:
    """Take a context head written before out of an ONNX graph (its consumers read the output layer again)."""
    p = CONTEXT_PREFIX
    ours = [n for n in graph.node if n.output and n.output[0].startswith(f"{p}.")]
    if not ours:
        return
    skip = next(n.input[0] for n in ours if n.output[0] == f"{p}.logits")
    for node in ours:
        graph.node.remove(node)
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name == f"{p}.logits":
                node.input[k] = skip
    for init in [i for i in graph.initializer if i.name.startswith(f"{p}.")]:
        graph.initializer.remove(init)


class ContextTrainer(HeadTrainer):
    """The committed output layer plus a residual context path, trained on labelled crops."""

    def __init__(self, model_path: Path, hidden: int = 96, seed: int = 18) -> None:
        """A model trained before with a context head starts from that head (its size kept)."""
        import onnx
        from onnx import numpy_helper

        super().__init__(model_path)
        features, classes = self.weight.shape
        rng = np.random.default_rng(seed)
        p = CONTEXT_PREFIX
        found = {i.name: numpy_helper.to_array(i).astype(np.float64)
                 for i in onnx.load(str(model_path)).graph.initializer if i.name.startswith(f"{p}.")}
        if f"{p}.w1" in found:
            self.initial = ContextResult(self.weight.copy(), self.bias.copy(), [], w1=found[f"{p}.w1"],
                                         b1=found[f"{p}.b1"], w2=found[f"{p}.w2"], b2=found[f"{p}.b2"])
        else:
            self.initial = ContextResult(
                self.weight.copy(), self.bias.copy(), [],
                w1=rng.normal(0.0, np.sqrt(2.0 / (3 * features)), (3 * features, hidden)),
                b1=np.zeros(hidden), w2=np.zeros((hidden, classes)), b2=np.zeros(classes))

    def head_loss(self, features: Sequence[np.ndarray], texts: Sequence[str], head: ContextResult) -> float:
        """Mean CTC loss of labelled crops under a head."""
        losses = [ctc_loss_and_grad(head.logits(x), self.target(t))[0] for x, t in zip(features, texts, strict=True)]
        return float(np.mean(losses)) if losses else 0.0

    def train_context(self, features: Sequence[np.ndarray], texts: Sequence[str], *, epochs: int = 10,
                      lr: float = 1e-3, l2: float = 1e-2, decay: float = 1e-3, seed: int = 18,
                      validation: float = 0.15, extra: Sequence[tuple[int, np.ndarray]] = (),
                      progress: Callable[[int, int, float], None] | None = None) -> ContextResult:
        """Adam on the CTC loss; the skip layer pulled towards the committed one (`l2`), the residual path
        towards zero (`decay`). A `validation` share of the crops is held back and the epoch with the
        lowest loss on it kept (the untrained head, i.e. the committed model, when none beats it).
        `extra` are features of augmented copies, each with the index of the crop it was made from: those
        of a held-back crop are left out, the others are trained on beside the originals."""
        rng = np.random.default_rng(seed)
        train, held = split_held_back(features, [self.target(t) for t in texts], validation, rng, extra)
        head = ContextResult(self.weight.copy(), self.bias.copy(), [], w1=self.initial.w1.copy(),
                             b1=self.initial.b1.copy(), w2=self.initial.w2.copy(), b2=self.initial.b2.copy())
        params = {"weight": head.weight, "bias": head.bias, "w1": head.w1, "b1": head.b1, "w2": head.w2, "b2": head.b2}

        def gradient(x: np.ndarray, target: list[int]) -> tuple[float, dict[str, np.ndarray]]:
            ctx = context_frames(x)
            pre = ctx @ head.w1 + head.b1
            hidden = np.maximum(pre, 0.0)
            loss, grad = ctc_loss_and_grad(x @ head.weight + head.bias + hidden @ head.w2 + head.b2, target)
            d_hidden = (grad @ head.w2.T) * (pre > 0)
            return loss, {"weight": x.T @ grad + l2 * (head.weight - self.weight), "bias": grad.sum(axis=0),
                          "w1": ctx.T @ d_hidden + decay * head.w1, "b1": d_hidden.sum(axis=0),
                          "w2": hidden.T @ grad + decay * head.w2, "b2": grad.sum(axis=0)}

        kept, losses = fit(params, gradient, train, held, lambda x, t: ctc_loss_and_grad(head.logits(x), t)[0],
                           epochs=epochs, lr=lr, rng=rng, progress=progress)
        return ContextResult(kept["weight"], kept["bias"], losses, w1=kept["w1"], b1=kept["b1"],
                             w2=kept["w2"], b2=kept["b2"])

    def save(self, result: TrainResult, path: Path, note: str = "") -> Path:
        """Write the model with the trained head: the output layer's tensors replaced and, for a context
        head, the residual path added as nodes whose sum with the output layer feeds the Softmax."""
        if not isinstance(result, ContextResult):
            return super().save(result, path, note)
        import onnx
        from onnx import helper, numpy_helper

        super().save(result, path, note)
        model = onnx.load(str(path))
        graph = model.graph
        _strip_context(graph)
        add = next(n for n in graph.node if n.op_type == "Add" and HEAD_BIAS in n.input)
        feature = self._feature
        p = CONTEXT_PREFIX
        tensors = {f"{p}.w1": result.w1, f"{p}.b1": result.b1, f"{p}.w2": result.w2, f"{p}.b2": result.b2,
                   f"{p}.pads": np.array([0, 1, 0, 0, 1, 0], np.int64),
                   f"{p}.zero": np.array([0], np.int64), f"{p}.two": np.array([2], np.int64),
                   f"{p}.minus2": np.array([-2], np.int64), f"{p}.end": np.array([2**62], np.int64),
                   f"{p}.axis": np.array([1], np.int64)}
        for name, value in tensors.items():
            dtype = np.int64 if value.dtype == np.int64 else np.float32
            graph.initializer.append(numpy_helper.from_array(value.astype(dtype), name))
        nodes = [
            helper.make_node("Pad", [feature, f"{p}.pads"], [f"{p}.padded"], mode="constant"),
            helper.make_node("Slice", [f"{p}.padded", f"{p}.zero", f"{p}.minus2", f"{p}.axis"], [f"{p}.prev"]),
            helper.make_node("Slice", [f"{p}.padded", f"{p}.two", f"{p}.end", f"{p}.axis"], [f"{p}.next"]),
            helper.make_node("Concat", [f"{p}.prev", feature, f"{p}.next"], [f"{p}.ctx"], axis=2),
            helper.make_node("MatMul", [f"{p}.ctx", f"{p}.w1"], [f"{p}.mm1"]),
            helper.make_node("Add", [f"{p}.mm1", f"{p}.b1"], [f"{p}.pre"]),
            helper.make_node("Relu", [f"{p}.pre"], [f"{p}.hidden"]),
            helper.make_node("MatMul", [f"{p}.hidden", f"{p}.w2"], [f"{p}.mm2"]),
            helper.make_node("Add", [f"{p}.mm2", f"{p}.b2"], [f"{p}.residual"]),
            helper.make_node("Add", [add.output[0], f"{p}.residual"], [f"{p}.logits"]),
        ]
        consumers = [n for n in graph.node if add.output[0] in n.input]
        for node in consumers:  # the Identity/Softmax after the output layer now reads the sum
            for k, name in enumerate(node.input):
                if name == add.output[0]:
                    node.input[k] = f"{p}.logits"
        position = list(graph.node).index(add) + 1
        for offset, node in enumerate(nodes):
            graph.node.insert(position + offset, node)
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
        return path
