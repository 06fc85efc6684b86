"""The `rnn` comparison: updates per second of lab 4's char-RNN (m = 100, tau = 25, AdaGrad,
clip 5) on Tiny Shakespeare (../shared/data) or the project's synthetic corpus: the project
(float32, float64) next to a one-hot reference written in the course's style and PyTorch CPU
at batch 1 (an explicit loop and nn.RNN); and characters per second of the mini-batch path
(B = 32 sequences per update) next to B = 1 and to the BLAS floor of its matrix products.
Always 1 thread, as the pipeline's jobs run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from common import CORPUS, NO_TORCH, SEED, import_torch, row, time_rounds, worker_info

PER_THREAD = False  # 1 thread only


def load_corpus(max_chars: int | None):
    """(indices, K, source): Tiny Shakespeare from ../shared/data when present, else the
    project's seeded synthetic corpus."""
    import numpy as np

    from dd2424.data import text

    if CORPUS.exists():
        t, source = text.read_text(CORPUS), f"{CORPUS.name}"
    else:
        t, source = text.synthetic_text(300_000, np.random.default_rng(SEED)), "synthetic_text"
    if max_chars:
        t = t[:max_chars]
    vocab = text.Vocabulary.from_text(t)
    return vocab.encode(t), vocab.K, f"{source}, {len(t):,} chars, K={vocab.K}"


class OneHotRNN:
    """The reference: lab 4 written the way the course text reads.  Column vectors, a one-hot
    x_t, per-step matrix products forward and backward (U x_t, dU += da x_t^T, ...), then each
    parameter clipped and updated by AdaGrad on its own."""

    def __init__(self, init: dict, dtype, eta=0.1, eps=1e-8, clip=5.0) -> None:
        import numpy as np

        self.np = np
        self.p = {k: np.array(v, dtype=dtype).reshape(v.shape[0], -1) for k, v in init.items()}
        self.mem = {k: np.zeros_like(v) for k, v in self.p.items()}
        self.eta, self.eps, self.clip = eta, eps, clip

    def step(self, x, y, hprev):
        np = self.np
        U, W, V, b, c = (self.p[k] for k in ("U", "W", "V", "b", "c"))
        m, K = U.shape
        xs, hs, ps = {}, {-1: hprev}, {}
        loss = 0.0
        for t in range(len(x)):
            xs[t] = np.zeros((K, 1), dtype=U.dtype)
            xs[t][x[t]] = 1
            hs[t] = np.tanh(W @ hs[t - 1] + U @ xs[t] + b)
            o = V @ hs[t] + c
            e = np.exp(o - o.max())
            ps[t] = e / e.sum()
            loss -= float(np.log(ps[t][y[t], 0]))
        grads = {k: np.zeros_like(v) for k, v in self.p.items()}
        dh_next = np.zeros((m, 1), dtype=U.dtype)
        for t in reversed(range(len(x))):
            g = ps[t].copy()
            g[y[t]] -= 1
            grads["V"] += g @ hs[t].T
            grads["c"] += g
            da = (1 - hs[t] * hs[t]) * (V.T @ g + dh_next)
            grads["b"] += da
            grads["U"] += da @ xs[t].T
            grads["W"] += da @ hs[t - 1].T
            dh_next = W.T @ da
        for k, grad in grads.items():
            grad = np.clip(grad, -self.clip, self.clip)
            self.mem[k] += grad * grad
            self.p[k] -= self.eta * grad / np.sqrt(self.mem[k] + self.eps)
        return loss, hs[len(x) - 1]


def reference_seconds(init, data, n_updates: int, dtype) -> float:
    """Seconds for ``n_updates`` updates of the one-hot reference, walking the corpus as the
    spec's loop does."""
    import numpy as np

    model = OneHotRNN(init, dtype)
    zeros = np.zeros((init["W"].shape[0], 1), dtype=dtype)
    xs, ys = data.tolist(), data[1:].tolist()  # Python ints, as a course loop indexes

    def step(x, y, h0):
        return model.step(x, y, zeros if h0 is None else h0)[1]

    started = time.perf_counter()
    walk_lists(xs, ys, len(data), n_updates, 25, step)
    return time.perf_counter() - started


def next_position(e: int, n: int, tau: int) -> tuple[int, bool]:
    """Spec 0.5 (0-based): e += tau; back to 0 (an epoch is done) when the next window would
    not fit."""
    e += tau
    return (0, True) if e > n - tau - 1 else (e, False)


def walk_lists(xs, ys, n, n_updates, tau, step) -> None:
    e, hprev = 0, None
    for _ in range(n_updates):
        hprev = step(xs[e : e + tau], ys[e : e + tau], None if e == 0 else hprev)
        e, wrapped = next_position(e, n, tau)
        if wrapped:
            hprev = None


def project_seconds(data, K: int, n_updates: int, dtype: str) -> float:
    """Seconds of ``dd2424.rnn.trainer.train`` for ``n_updates`` updates of the sequential walk
    (no sampling, no logging)."""
    import numpy as np

    from dd2424.rnn.state import RNNConfig, TrainingState
    from dd2424.rnn.trainer import train
    from dd2424.rnn.walks import Walk

    walk = Walk("sequential", [(0, len(data))], 25, 1, np.random.default_rng(SEED))
    state = TrainingState(RNNConfig(dtype=dtype), K, np.random.default_rng(SEED), walk=walk)
    history = train(state, data, n_updates, loss_every=10**9, sample_every=None, log_every=0)
    return history.seconds


BATCH = 32


def batch_seconds(data, K: int, n_updates: int, batch: int, m: int = 100) -> float:
    """Seconds of ``dd2424.rnn.trainer.train`` for ``n_updates`` float32 AdaGrad updates of
    ``batch`` sequences each (the sequential walk: the text cut into ``batch`` lanes)."""
    import numpy as np

    from dd2424.rnn.state import RNNConfig, TrainingState
    from dd2424.rnn.trainer import train
    from dd2424.rnn.walks import Walk, cut

    walk = Walk("sequential", cut(0, len(data), batch), 25, batch, np.random.default_rng(SEED))
    cfg = RNNConfig(dtype="float32", batch=batch, m=m)
    state = TrainingState(cfg, K, np.random.default_rng(SEED), walk=walk)
    history = train(state, data, n_updates, loss_every=10**9, sample_every=None, log_every=0)
    return history.seconds


def flop_per_char(m: int, K: int) -> int:
    """Multiply-adds x 2 of the forward and backward products per character: h W^T, da W and
    dW (2 m^2 each); h V^T, dV, g V and dU (2 m K each)."""
    return 3 * 2 * m * m + 4 * 2 * m * K


def floor_seconds(K: int, n_updates: int, batch: int, m: int = 100, tau: int = 25) -> float:
    """The BLAS floor of ``n_updates`` mini-batch updates: their matrix products alone, float32,
    into preallocated outputs, on random data of the real shapes (per step of the loops the
    (B, m) x (m, m) products of the forward and backward recurrences; over the whole sequence
    the output layer, dV, g V, dW and dU as (tau B)-row products)."""
    import numpy as np

    rng = np.random.default_rng(SEED)

    def mat(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    W, V = mat(m, m), mat(K, m)
    H, G, dA, X = mat(tau * batch, m), mat(tau * batch, K), mat(tau * batch, m), mat(tau * batch, K)
    h, out_h = mat(batch, m), np.empty((batch, m), np.float32)
    O, dHo = np.empty((tau * batch, K), np.float32), np.empty((tau * batch, m), np.float32)
    dV, dW, dU = (
        np.empty((K, m), np.float32),
        np.empty((m, m), np.float32),
        np.empty((m, K), np.float32),
    )
    WT = W.T
    started = time.perf_counter()
    for _ in range(n_updates):
        for _ in range(tau):
            np.matmul(h, WT, out=out_h)
        np.matmul(H, V.T, out=O)
        np.matmul(G.T, H, out=dV)
        np.matmul(G, V, out=dHo)
        for _ in range(tau):
            np.matmul(h, W, out=out_h)
        np.matmul(dA.T, H, out=dW)
        np.matmul(dA.T, X, out=dU)
    return time.perf_counter() - started


def torch_rnn_seconds(torch, init, data, n_updates: int, use_module: bool) -> float:
    """Seconds for ``n_updates`` updates in PyTorch at batch 1, float32, autograd;
    clip_grad_value_ then AdaGrad by hand (eps inside the square root as in the spec;
    torch.optim.Adagrad adds it outside).  ``use_module``:
    torch.nn.RNN over one-hot inputs (the loop runs in C++), else an explicit Python loop
    h = tanh(W h + U[:, x_t] + b)."""
    import numpy as np

    F = torch.nn.functional
    m, K = init["U"].shape
    eta, eps, clip = 0.1, 1e-8, 5.0
    if use_module:
        rnn_layer = torch.nn.RNN(K, m, nonlinearity="tanh")
        out_layer = torch.nn.Linear(m, K)
        with torch.no_grad():
            rnn_layer.weight_ih_l0.copy_(torch.from_numpy(init["U"]))
            rnn_layer.weight_hh_l0.copy_(torch.from_numpy(init["W"]))
            rnn_layer.bias_ih_l0.copy_(torch.from_numpy(init["b"]))
            rnn_layer.bias_hh_l0.zero_()
            out_layer.weight.copy_(torch.from_numpy(init["V"]))
            out_layer.bias.copy_(torch.from_numpy(init["c"]))
        params = [*rnn_layer.parameters(), *out_layer.parameters()]
        eye = torch.eye(K)
    else:
        P = {k: torch.tensor(v, requires_grad=True) for k, v in init.items()}
        params = list(P.values())
    mem = [torch.zeros_like(p) for p in params]
    datat = torch.from_numpy(np.ascontiguousarray(data, dtype=np.int64))
    xs = data.tolist()
    zeros = torch.zeros(m)

    def step(e, h0):
        y = datat[e + 1 : e + 26]
        if use_module:
            out, h_last = rnn_layer(eye[datat[e : e + 25]].unsqueeze(1), h0.view(1, 1, m))
            loss = F.cross_entropy(out_layer(out[:, 0]), y, reduction="sum")
            h_last = h_last.view(m)
        else:
            h, hs = h0, []
            for xt in xs[e : e + 25]:
                h = torch.tanh(P["W"] @ h + P["U"][:, xt] + P["b"])
                hs.append(h)
            loss = F.cross_entropy(torch.stack(hs) @ P["V"].T + P["c"], y, reduction="sum")
            h_last = h
        for p in params:
            p.grad = None
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, clip)
        with torch.no_grad():
            for p, mp in zip(params, mem, strict=True):
                mp.addcmul_(p.grad, p.grad)
                p.addcdiv_(p.grad, (mp + eps).sqrt_(), value=-eta)
        return h_last.detach()

    started = time.perf_counter()
    e, hprev = 0, zeros
    for _ in range(n_updates):
        hprev = step(e, zeros if e == 0 else hprev)  # h0 = 0 at the start of each epoch
        e, _ = next_position(e, len(data), 25)
    return time.perf_counter() - started


def torch_batch_seconds(torch, m: int, K: int, data, n_updates: int, batch: int) -> float:
    """Seconds of ``n_updates`` PyTorch updates of ``batch`` sequences (the text cut into
    ``batch`` lanes, h carried): nn.RNN over one-hot input + Linear, the loss the mean over the
    sequences of each one's sum (the project's), clip_grad_value_, AdaGrad by hand; float32."""
    import numpy as np

    F = torch.nn.functional
    rnn_layer = torch.nn.RNN(K, m, nonlinearity="tanh")
    out_layer = torch.nn.Linear(m, K)
    params = [*rnn_layer.parameters(), *out_layer.parameters()]
    mem = [torch.zeros_like(p) for p in params]
    eye = torch.eye(K)
    lane = len(data) // batch
    starts = np.arange(batch) * lane
    datat = torch.from_numpy(np.ascontiguousarray(data, dtype=np.int64))
    steps = torch.arange(25)[:, None]
    h = torch.zeros(1, batch, m)
    started = time.perf_counter()
    e = 0
    for _ in range(n_updates):
        idx = torch.from_numpy(starts + e)[None, :] + steps  # (25, B)
        out, h = rnn_layer(eye[datat[idx]], h)
        loss = F.cross_entropy(out_layer(out).reshape(-1, K), datat[idx + 1].reshape(-1))
        loss = loss * 25  # the mean over sequences of each one's sum
        for p in params:
            p.grad = None
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, 5.0)
        with torch.no_grad():
            for p, mp in zip(params, mem, strict=True):
                mp.addcmul_(p.grad, p.grad)
                p.addcdiv_(p.grad, (mp + 1e-8).sqrt_(), value=-0.1)
        h = h.detach()
        e = e + 25 if e + 51 < lane else 0
    return time.perf_counter() - started


#: the recipe's hidden size (issue 20: m = 256, B = 32 on Tiny Shakespeare)
RECIPE_M = 256


def recipe_peers(torch, data, K: int, n: int) -> dict[str, Callable[[], float]]:
    """The project at the recipe's size, m = 256, at B = 1 and B = 32, the BLAS floor of the
    B = 32 products, and PyTorch's nn.RNN at both (``n`` updates at B = 1, n / 8 at B = 32)."""
    m, n_b1, n_b32 = RECIPE_M, n, max(1, n // 8)
    peers = {
        f"project m={m} B=1 float32": lambda: batch_seconds(data, K, n_b1, 1, m),
        f"project m={m} B={BATCH} float32": lambda: batch_seconds(data, K, n_b32, BATCH, m),
        f"BLAS floor m={m} B={BATCH} float32": lambda: floor_seconds(K, n_b32, BATCH, m),
    }
    if torch is not None:
        peers[f"PyTorch nn.RNN m={m} B=1 float32"] = lambda: torch_batch_seconds(
            torch, m, K, data, n_b1, 1
        )
        peers[f"PyTorch nn.RNN m={m} B={BATCH} float32"] = lambda: torch_batch_seconds(
            torch, m, K, data, n_b32, BATCH
        )
    return peers


def recipe_rows(times: dict, K: int, n: int, threads: int) -> list[dict]:
    """Characters per second of the recipe-size peers (``recipe_peers``)."""
    rows = []
    for name, seconds in times.items():
        if f"m={RECIPE_M} " not in name:
            continue
        label, dtype = name.rsplit(" ", 1)
        batch = BATCH if f"B={BATCH}" in name else 1
        updates = n if batch == 1 else max(1, n // 8)
        chars = [updates * batch * 25 / s for s in seconds]
        note = f"{updates} updates of B={batch}, AdaGrad, float32"
        if label.startswith("BLAS"):
            gflops = statistics.median(chars) * flop_per_char(RECIPE_M, K) / 1e9
            note = f"the products alone, {gflops:.0f} GFLOP/s"
        case = f"m={RECIPE_M} tau=25 K={K}: {label}"
        rows.append(row("rnn", case, chars, "chars/s", dtype, threads, note))
    return rows


def check_reference(data, K: int) -> str:
    """One update of the reference and of the project from the same parameters must agree."""
    import numpy as np

    from dd2424.rnn.state import RNNConfig, TrainingState

    state = TrainingState(RNNConfig(), K, np.random.default_rng(SEED))
    ref = OneHotRNN({k: v.copy() for k, v in state.params.items()}, np.float64)
    loss_ref, _ = ref.step(data[:25].tolist(), data[1:26].tolist(), np.zeros((100, 1)))
    loss, _ = state.step(data[:25], data[1:26], np.zeros(100))
    diff = max(float(np.abs(ref.p[k].ravel() - state.params[k].ravel()).max()) for k in ref.p)
    ok = abs(loss - loss_ref) < 1e-9 * abs(loss) and diff < 1e-12
    return f"same loss and parameters as the project after 1 update: {'yes' if ok else 'NO'}"


def worker(size: dict, args) -> dict:
    import numpy as np

    from dd2424.rnn import network as rnn

    repeats, warmup, threads = args.repeats, args.warmup, args.threads
    torch = import_torch(threads)
    data, K, source = load_corpus(size["corpus_chars"])
    n = size["rnn_updates"]
    init = rnn.init_params(100, K, np.random.default_rng(SEED), dtype=np.float32)
    init64 = rnn.init_params(100, K, np.random.default_rng(SEED), dtype=np.float64)
    peers: dict[str, Callable[[], float]] = {
        "project float32": lambda: project_seconds(data, K, n, "float32"),
        "project float64": lambda: project_seconds(data, K, n, "float64"),
        "one-hot reference float32": lambda: reference_seconds(init, data, n, np.float32),
        "one-hot reference float64": lambda: reference_seconds(init64, data, n, np.float64),
    }
    n_batch = max(1, n // 8)
    peers[f"project B={BATCH} float32"] = lambda: batch_seconds(data, K, n_batch, BATCH)
    peers[f"BLAS floor B={BATCH} float32"] = lambda: floor_seconds(K, n_batch, BATCH)
    if torch is not None:
        peers["PyTorch loop float32"] = lambda: torch_rnn_seconds(torch, init, data, n, False)
        peers["PyTorch nn.RNN float32"] = lambda: torch_rnn_seconds(torch, init, data, n, True)
    peers |= recipe_peers(torch, data, K, max(1, n // 4))
    times = time_rounds(peers, repeats, warmup)
    recipe = recipe_rows(times, K, max(1, n // 4), threads)
    times = {k: v for k, v in times.items() if f"m={RECIPE_M} " not in k}
    notes = {
        f"project B={BATCH}": f"AdaGrad, sequential walk in {BATCH} lanes, {n_batch} updates",
        f"BLAS floor B={BATCH}": (
            f"the products of {n_batch} B={BATCH} updates alone, "
            f"{flop_per_char(100, K) / 1e3:.0f} kFLOP/char"
        ),
        "project": "dd2424.rnn.state.TrainingState + trainer.train (no sampling)",
        "one-hot": check_reference(data, K),
        "PyTorch loop": "batch 1, explicit loop, autograd, clip_grad_value_, AdaGrad by hand",
        "PyTorch nn.RNN": "batch 1, nn.RNN on one-hot input + Linear (+ its 2nd bias b_hh)",
    }
    rows = []
    for name, seconds in times.items():
        dtype = name.rsplit(" ", 1)[1]
        note = next(v for k, v in notes.items() if name.startswith(k))
        case = f"m=100 tau=25 K={K}: {name.rsplit(' ', 1)[0]}"
        if f"B={BATCH}" in name:  # mini-batch rows: characters per second
            chars = [n_batch * BATCH * 25 / s for s in seconds]
            if name.startswith("BLAS"):
                gflops = statistics.median(chars) * flop_per_char(100, K) / 1e9
                note += f", {gflops:.0f} GFLOP/s"
            rows.append(row("rnn", case, chars, "chars/s", dtype, threads, note))
            continue
        rates = [n / s for s in seconds]
        rows.append(row("rnn", case, rates, "updates/s", dtype, threads, note))
        if name == "project float32":  # B = 1 in characters per second, same rounds
            chars = [r * 25 for r in rates]
            note_b1 = "the project float32 rounds above, x 25 characters per update"
            rows.append(row("rnn", f"{case} B=1", chars, "chars/s", dtype, threads, note_b1))
    if torch is None:
        for m_b in (f"m={RECIPE_M} B=1", f"m={RECIPE_M} B={BATCH}"):
            case = f"m={RECIPE_M} tau=25 K={K}: PyTorch nn.RNN {m_b}"
            rows.append(row("rnn", case, None, "chars/s", "float32", threads, NO_TORCH))
        for name in ("PyTorch loop", "PyTorch nn.RNN"):
            rows.append(
                row(
                    "rnn",
                    f"m=100 tau=25 K={K}: {name}",
                    None,
                    "updates/s",
                    "float32",
                    threads,
                    NO_TORCH,
                )
            )
    return {"rows": rows + recipe, "info": worker_info(torch) | {"corpus": source}}


def goals(med, infos: dict) -> list[tuple]:
    rnn32 = med("rnn", ": project")
    b1, b32 = med("rnn", ": project B=1"), med("rnn", f": project B={BATCH}")
    torch_rates = [med("rnn", ": PyTorch loop"), med("rnn", ": PyTorch nn.RNN")]
    torch_best = max((r for r in torch_rates if r == r), default=float("nan"))
    return [
        (
            "RNN float32: project / one-hot reference float32 (updates/s)",
            rnn32 / med("rnn", ": one-hot reference"),
            ">=",
            3.0,
        ),
        (
            "RNN float64: project / one-hot reference float64 (updates/s)",
            med("rnn", ": project", "float64") / med("rnn", ": one-hot reference", "float64"),
            ">=",
            3.0,
        ),
        (
            "RNN float32: project / the faster PyTorch batch-1 peer (updates/s)",
            rnn32 / torch_best,
            ">=",
            4.0,
        ),
        (f"RNN float32: B={BATCH} / B=1 (characters/s)", b32 / b1, ">=", 3.0),
        (
            f"RNN float32 B={BATCH}: project / BLAS floor (share of floor throughput)",
            b32 / med("rnn", f": BLAS floor B={BATCH}"),
            "info",
            0.0,
        ),
        (
            f"RNN float32 m={RECIPE_M} B={BATCH}: project / BLAS floor (share of floor)",
            med("rnn", f": project m={RECIPE_M} B={BATCH}")
            / med("rnn", f": BLAS floor m={RECIPE_M} B={BATCH}"),
            ">=",
            0.75,
        ),
    ]
