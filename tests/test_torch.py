"""The net trainer's speed decisions (models/_torch.py) keep its results: same seed, same numbers."""
from __future__ import annotations

import numpy as np
import pytest

from bench.contract import FitContext

torch = pytest.importorskip("torch")

from bench.models._torch import Dropout, _adamw, _fused_step, fit_net  # noqa: E402


def _data(n: int = 600, d: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    return X[: n // 2], y[: n // 2], X[n // 2:], y[n // 2:]


def _mlp(d: int = 6, dropout: float = 0.1, d_out: int = 2):
    return torch.nn.Sequential(torch.nn.Linear(d, 32), torch.nn.ReLU(inplace=True), Dropout(dropout),
                               torch.nn.Linear(32, 32), torch.nn.ReLU(inplace=True), Dropout(dropout),
                               torch.nn.Linear(32, d_out))


def _fit(build=_mlp, seed: int = 0, y_train=None, y_valid=None, **kwargs):
    """fit_net on _data(); ``y_train`` and ``y_valid`` replace its binary targets."""
    X_train, y_tr, X_valid, y_va = _data()
    settings = dict(transform=None, task="binary", ctx=FitContext(seed=seed), lr=1e-2, weight_decay=1e-4,
                    batch_size=64, max_epochs=4, patience=10)
    return fit_net(build, X_train, y_tr if y_train is None else y_train, X_valid, y_va if y_valid is None else y_valid,
                   **{**settings, **kwargs})


def test_a_seed_gives_the_same_weights_and_curves():
    first, second = _fit(), _fit()
    assert first.curves == second.curves
    for a, b in zip(first.net.state_dict().values(), second.net.state_dict().values()):
        assert torch.equal(a, b)
    assert _fit(seed=1).curves != first.curves


@pytest.mark.parametrize("groups", [False, True])
def test_fused_step_matches_optimizer_step_bit_for_bit(groups):
    """_fused_step calls the fused kernel itself after the first step; the weights must not move by one bit."""
    X = torch.randn(64, 6)
    y = torch.randint(0, 2, (64,))

    def train(direct: bool) -> list[torch.Tensor]:
        torch.manual_seed(0)
        net = _mlp(dropout=0.0)
        params = net.parameters() if not groups else [
            {"params": [p for name, p in net.named_parameters() if name.endswith("weight")]},
            {"params": [p for name, p in net.named_parameters() if name.endswith("bias")], "weight_decay": 0.0,
             "lr_factor": 0.5},
        ]
        optimizer = _adamw(params, 1e-2, 1e-3, torch.device("cpu"))
        step = _fused_step(optimizer) if direct else optimizer.step
        for i in range(6):
            for group in optimizer.param_groups:  # a schedule writes the rate between steps
                group["lr"] = 1e-2 * group.get("lr_factor", 1.0) * (1.0 - i / 10)
            optimizer.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(net(X), y).backward()
            step()
        return [p.detach().clone() for p in net.parameters()]

    for direct, plain in zip(train(True), train(False)):
        assert torch.equal(direct, plain)


def test_fused_step_skips_parameters_without_a_gradient_as_optimizer_step_does():
    torch.manual_seed(0)
    used, unused = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    optimizer = _adamw(list(used.parameters()) + list(unused.parameters()), 1e-2, 0.0, torch.device("cpu"))
    step = _fused_step(optimizer)
    before = unused.weight.detach().clone()
    for _ in range(3):
        optimizer.zero_grad(set_to_none=True)
        used(torch.randn(8, 3)).sum().backward()
        step()
    assert torch.equal(unused.weight, before)


def test_fused_step_falls_back_for_a_step_without_some_gradients_and_back_bit_for_bit():
    """Steps 3 and 4 leave the second layer without a gradient (optimizer.step skips it, its step count stays)."""
    def train(direct: bool):
        torch.manual_seed(0)
        first, second = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)
        optimizer = _adamw(list(first.parameters()) + list(second.parameters()), 1e-2, 1e-3, torch.device("cpu"))
        step = _fused_step(optimizer) if direct else optimizer.step
        for i in range(7):
            optimizer.zero_grad(set_to_none=True)
            x = torch.randn(8, 3)
            (first(x).sum() if i in (3, 4) else second(first(x)).sum()).backward()
            step()
        steps = [float(optimizer.state[p]["step"]) for p in optimizer.param_groups[0]["params"]]
        return [p.detach().clone() for p in optimizer.param_groups[0]["params"]], steps

    (fast, fast_steps), (reference, reference_steps) = train(True), train(False)
    assert fast_steps == reference_steps == [7.0, 7.0, 5.0, 5.0]
    for a, b in zip(fast, reference):
        assert torch.equal(a, b)


def test_fused_step_is_optimizer_step_without_the_fused_kernel():
    net = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-2)  # not fused: nothing to call directly
    assert _fused_step(optimizer) == optimizer.step


def test_dropout_masks_keep_the_rate_and_the_seeded_stream():
    torch.manual_seed(0)
    layer = Dropout(0.1)
    x = torch.ones(512, 256)
    masks = [layer(x) for _ in range(4)]
    kept = torch.stack(masks) != 0
    assert abs(kept.float().mean().item() - 0.9) < 0.003
    assert torch.allclose(masks[0][kept[0]], torch.tensor(1 / 0.9))
    # The 16-bit numbers are PCG64's raw 64-bit draws cut in four: rng.bytes gives the same byte stream.
    torch.manual_seed(0)
    rng = np.random.default_rng(int(torch.randint(2**62, ())))  # as Dropout seeds its generator
    bits = np.frombuffer(rng.bytes(2 * x.numel()), dtype=np.uint16).reshape(x.shape)
    assert torch.equal(masks[0] != 0, torch.from_numpy(bits >= layer.threshold))


def test_dropout_on_odd_sizes_and_a_new_rate():
    torch.manual_seed(0)
    layer = Dropout(0.5)
    for rows in (1, 3, 7):  # element counts that are not a multiple of 4
        out = layer(torch.ones(rows, 5))
        assert out.shape == (rows, 5) and set(out.unique().tolist()) <= {0.0, 2.0}
    layer.set_rate(0.0)
    x = torch.randn(4, 5)
    assert torch.equal(layer(x), x)


def test_denormals_are_flushed_during_the_fit_only():
    tiny = torch.tensor([1e-39])  # a denormal float32
    seen = []

    class Probe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(6, 2)

        def forward(self, x):
            seen.append(float((tiny * 1.0).item()))
            return self.linear(x)

    _fit(build=Probe, max_epochs=1)
    assert seen and seen[0] == 0.0  # flushed while training
    assert float((tiny * 1.0).item()) > 0.0  # and back afterwards


def test_the_cuda_path_is_kept_where_no_gpu_can_test_it():
    """Without a GPU: the non-CPU branches exist and the CPU path does not take them."""
    import inspect

    source = inspect.getsource(Dropout.forward)
    assert 'x.device.type != "cpu"' in source and "F.dropout" in source
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: the CUDA path is not measured or run here")
    fitted = _fit(ctx=FitContext(seed=0, device="cuda"))
    assert fitted.n_iter == 4


@pytest.mark.parametrize("kwargs", [
    {},
    {"mixup": 0.4, "label_smoothing": 0.1},
    {"gradient_clipping_norm": 0.5, "schedule": "cosine", "dropout_schedule": "flat_cos"},
    {"task": "regression"},
    {"task": "multiclass"},
], ids=["plain", "mixup-smoothing", "clipping-schedules", "regression", "multiclass"])
def test_the_plain_mlp_step_gives_autograds_weights_bit_for_bit(monkeypatch, kwargs):
    """models/_plain_mlp.py runs the plain MLP without autograd: the same arithmetic, so the same bits."""
    import bench.models._torch as trainer

    used = []
    real = trainer.plain_mlp_step
    monkeypatch.setattr(trainer, "plain_mlp_step", lambda net, kind: used.append(real(net, kind)) or used[-1])
    if kwargs.get("task") == "regression":
        X_train, _, X_valid, _ = _data()
        kwargs = {**kwargs, "y_train": X_train[:, 0] * 2.0 + 1.0, "y_valid": X_valid[:, 0] * 2.0 + 1.0}
    if kwargs.get("task") == "multiclass":  # three classes, by the sign of two features
        X_train, _, X_valid, _ = _data()
        kwargs = {**kwargs, "y_train": (X_train[:, 0] > 0).astype(np.int64) + (X_train[:, 1] > 0.5),
                  "y_valid": (X_valid[:, 0] > 0).astype(np.int64) + (X_valid[:, 1] > 0.5),
                  "build": lambda: _mlp(d_out=3)}
    fast = _fit(**kwargs)
    assert used and used[0] is not None  # the fit took the plain path
    monkeypatch.setattr(trainer, "plain_mlp_step", lambda net, kind: None)  # autograd throughout
    reference = _fit(**kwargs)
    assert fast.curves == reference.curves
    for a, b in zip(fast.net.state_dict().values(), reference.net.state_dict().values()):
        assert torch.equal(a, b)


def test_only_plain_mlps_on_the_cpu_take_the_plain_step():
    from bench.models._plain_mlp import plain_mlp_step
    from bench.models.mlp import build_mlp

    nn = torch.nn
    assert plain_mlp_step(build_mlp(6, 2, 3, 16, dropout=0.1, norm="none"), Dropout) is not None
    assert plain_mlp_step(build_mlp(6, 2, 0, 16, dropout=0.0, norm="none"), Dropout) is not None  # one Linear
    for net in (build_mlp(6, 2, 2, 16, dropout=0.1, norm="batchnorm"),
                nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 2)),
                nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 2)),  # torch's own dropout
                nn.Sequential(nn.Linear(6, 8), nn.ReLU()),  # does not end with a Linear
                nn.Sequential(nn.Linear(6, 8, bias=False), nn.ReLU(), nn.Linear(8, 2)),
                nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2)).double(),
                nn.Linear(6, 2)):
        assert plain_mlp_step(net, Dropout) is None, net
