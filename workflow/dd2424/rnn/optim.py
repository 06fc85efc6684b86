"""Per-parameter adaptive optimisers: AdaGrad, RMSProp and Adam, for any model.

Each optimiser updates one parameter array ``theta`` in place from its gradient ``grad`` (same
shape), keeping its own state in arrays of that shape.  A model with a dict of parameters
either keeps them in one flat buffer with views (as the char-RNN's trainer does: one call per
update) or makes one optimiser per array.  ``state()`` returns the state as named arrays (the
step counter of Adam as a 0-d int64 array) and ``load_state`` puts it back, so a checkpoint
restores an optimiser exactly and a resumed run continues bit-identically.

Equations (course-spec §4.1 for AdaGrad and RMSProp; Kingma & Ba 2015 for Adam), g the
(clipped) gradient, all operations element-wise:

- AdaGrad (eqs 6-7):  m += g^2;                     theta -= eta g / sqrt(m + eps)
- RMSProp (eqs 8-9):  m = gamma m + (1 - gamma) g^2; theta -= eta g / sqrt(m + eps)
- Adam:  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  t += 1
         m^ = m / (1 - b1^t);  v^ = v / (1 - b2^t);  theta -= eta m^ / (sqrt(v^) + eps)

eps is inside the square root for AdaGrad and RMSProp (as the spec writes them) and outside
for Adam (as the paper does).  Every step runs in place over the whole array with one scratch
buffer, so an update allocates nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: default step size of each optimiser: the course's AdaGrad run, the spec's RMSProp value,
#: Kingma & Ba's Adam value
DEFAULT_ETA = {"adagrad": 0.1, "rmsprop": 0.001, "adam": 0.001}


class Optimizer:
    """Base class: ``step(theta, grad)`` in place; state as named arrays of theta's shape."""

    name = ""
    state_names: tuple[str, ...] = ()

    def __init__(self, shape: tuple[int, ...] | int, dtype: Any, eta: float, eps: float) -> None:
        if not eta > 0:
            raise ValueError(f"{self.name}: eta must be > 0, got {eta}")
        if not eps > 0:
            raise ValueError(f"{self.name}: eps must be > 0, got {eps}")
        self.eta = float(eta)
        self.eps = float(eps)
        self.dtype = np.dtype(dtype)
        self._tmp = np.empty(shape, dtype=self.dtype)
        for name in self.state_names:
            setattr(self, name, np.zeros(shape, dtype=self.dtype))

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.state_names}

    def load_state(self, arrays: Mapping[str, np.ndarray]) -> None:
        missing = sorted(set(self.state_names) - set(arrays))
        if missing:
            raise ValueError(f"{self.name} state lacks {missing}")
        for name in self.state_names:
            current = getattr(self, name)
            if np.shape(arrays[name]) != current.shape:
                raise ValueError(
                    f"{self.name} state {name!r} has shape {np.shape(arrays[name])}, "
                    f"expected {current.shape}"
                )
            current[...] = arrays[name]


class _RootMeanSquare(Optimizer):
    """AdaGrad and RMSProp: they differ only in how ``mem`` accumulates g^2; both then step
    theta -= eta g / sqrt(mem + eps)."""

    state_names = ("mem",)

    def accumulate(self, g2: np.ndarray) -> None:
        raise NotImplementedError

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        tmp = self._tmp
        np.multiply(grad, grad, out=tmp)
        self.accumulate(tmp)
        np.add(self.mem, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        np.divide(grad, tmp, out=tmp)
        tmp *= self.eta
        theta -= tmp


class AdaGrad(_RootMeanSquare):
    """Eqs 6-7: mem += g^2; theta -= eta g / sqrt(mem + eps)."""

    name = "adagrad"

    def accumulate(self, g2: np.ndarray) -> None:
        self.mem += g2


class RMSProp(_RootMeanSquare):
    """Eqs 8-9: mem = gamma mem + (1 - gamma) g^2; theta -= eta g / sqrt(mem + eps)."""

    name = "rmsprop"

    def __init__(self, shape, dtype, eta: float, eps: float, gamma: float = 0.9) -> None:
        if not 0 <= gamma < 1:
            raise ValueError(f"rmsprop: gamma must be in [0, 1), got {gamma}")
        super().__init__(shape, dtype, eta, eps)
        self.gamma = float(gamma)

    def accumulate(self, g2: np.ndarray) -> None:
        g2 *= 1 - self.gamma
        self.mem *= self.gamma
        self.mem += g2


class Adam(Optimizer):
    """Kingma & Ba (2015), Algorithm 1, with the bias-corrected moments m^ and v^."""

    name = "adam"
    state_names = ("m", "v", "t")

    def __init__(
        self, shape, dtype, eta: float, eps: float, beta1: float = 0.9, beta2: float = 0.999
    ) -> None:
        for key, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ValueError(f"adam: {key} must be in [0, 1), got {beta}")
        super().__init__(shape, dtype, eta, eps)
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.t = np.zeros((), dtype=np.int64)  # the step counter, an array so state() saves it
        self._tmp2 = np.empty_like(self._tmp)

    def load_state(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.t = np.zeros((), dtype=np.int64)
        super().load_state(arrays)

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        b1, b2 = self.beta1, self.beta2
        self.t += 1
        t = int(self.t)
        tmp, tmp2 = self._tmp, self._tmp2
        self.m *= b1
        np.multiply(grad, 1 - b1, out=tmp)
        self.m += tmp  # m = b1 m + (1 - b1) g
        self.v *= b2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - b2
        self.v += tmp  # v = b2 v + (1 - b2) g^2
        np.divide(self.v, 1 - b2**t, out=tmp2)  # v^
        np.sqrt(tmp2, out=tmp2)
        tmp2 += self.eps
        np.divide(self.m, 1 - b1**t, out=tmp)  # m^
        tmp /= tmp2
        tmp *= self.eta
        theta -= tmp


OPTIMIZERS = {cls.name: cls for cls in (AdaGrad, RMSProp, Adam)}


def make_optimizer(
    name: str,
    shape: tuple[int, ...] | int,
    dtype: Any,
    eta: float | None = None,
    eps: float = 1e-8,
    gamma: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
) -> Optimizer:
    """The optimiser ``name`` for arrays of ``shape``; ``eta=None`` takes ``DEFAULT_ETA``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r} (have: {sorted(OPTIMIZERS)})")
    eta = DEFAULT_ETA[name] if eta is None else eta
    if name == "rmsprop":
        return RMSProp(shape, dtype, eta, eps, gamma)
    if name == "adam":
        return Adam(shape, dtype, eta, eps, beta1, beta2)
    return AdaGrad(shape, dtype, eta, eps)
