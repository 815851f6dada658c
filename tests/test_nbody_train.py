"""The N-body models' inputs (as in the paper's code), their equivariance, and a short training run."""

import pytest
import torch

from egnn_lite.checks import check_equivariance
from egnn_lite.graphs import fully_connected
from egnn_lite.nbody.data import load_split
from egnn_lite.nbody.train import (MODELS, ROLLOUT_MODELS, VARIANTS, Batch, build_model, make_batch, momentum_error, mse, predict,
                                   predict_state, rollout, train_model)

EQUIVARIANT = ("linear", "radial_field", "egnn", "egnn_vel", "egnn_newton", "egnn_vel_rollout")


@pytest.fixture(scope="module")
def data():
    return load_split("train")[:200], load_split("valid")[:100]


def test_batches_stack_trajectories(data):
    b = make_batch(data[0], slice(0, 7))
    assert b.x.shape == b.v.shape == b.target.shape == (35, 3) and b.q.shape == (35,)
    assert b.edge_index.shape == (2, 7 * 20) and b.num_graphs == 7
    assert torch.equal(b.target.reshape(7, 5, 3), data[0].state(40)[0][:7])


@pytest.mark.parametrize("name", MODELS + VARIANTS)
def test_every_model_predicts_positions(name, data):
    torch.manual_seed(0)
    model = build_model(name)
    b = make_batch(data[0], slice(0, 4))
    out = predict(model, name, b)
    assert out.shape == (20, 3) and torch.isfinite(out).all()


def _as_function(model, name):
    """predict() as f(h, x, edge_index, v) for the harness; the charges ride in h."""

    def f(h, x, edge_index, v):
        return predict(model, name, Batch(x, v, h[:, 0], edge_index, torch.zeros_like(x)))

    return f


@pytest.mark.parametrize("name", EQUIVARIANT)
def test_the_equivariant_models_are_equivariant_with_their_nbody_inputs(name, data):
    torch.manual_seed(1)
    model = build_model(name).double()
    x, v = (t[0].double() for t in data[0].state(30))
    q = data[0].q[0].double().unsqueeze(1)
    report = check_equivariance(_as_function(model, name), q, x, fully_connected(5), v=v, outputs=("position",))
    assert report.passed, report


def test_the_gnn_is_not(data):
    torch.manual_seed(1)
    model = build_model("gnn").double()
    x, v = (t[0].double() for t in data[0].state(30))
    q = data[0].q[0].double().unsqueeze(1)
    report = check_equivariance(_as_function(model, "gnn"), q, x, fully_connected(5), v=v, outputs=("position",))
    assert report.worst("rotation") > 1e-3 and report.worst("permutation") < 1e-6


def test_a_short_training_run_improves_on_the_start(data):
    train, valid = data
    torch.manual_seed(0)
    before = mse(build_model("egnn_vel"), "egnn_vel", valid)
    model, hist = train_model("egnn_vel", train, valid, epochs=4, eval_every=2, progress=False)
    assert hist.val_epochs == [2, 4] and hist.best_val < 0.8 * before
    assert mse(model, "egnn_vel", valid) == pytest.approx(hist.best_val, rel=1e-6)


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("transformer")


def test_time_reversed_pairs_are_the_dynamics_run_backwards(data):
    from egnn_lite.nbody import simulate
    from egnn_lite.nbody.train import time_reversed

    d = data[0][:40]
    rev = time_reversed(d)
    x_start, v_start = rev.state(30)
    X, _ = simulate(x_start.double(), v_start.double(), d.q.double(), [9])  # frame 9 = 1,000 steps
    target = rev.state(40)[0].double()
    assert torch.equal(target, d.state(30)[0].double()) and torch.equal(x_start, d.state(40)[0])
    err = ((X[:, 0] - target) ** 2).mean().item()
    assert err < 2e-4  # vs the forward displacement's ~0.24: reversal holds up to the integrator's dt^2 terms
    assert ((d.state(40)[0] - d.state(30)[0]) ** 2).mean().item() > 100 * err


def test_training_with_time_reversal_doubles_the_pairs(data, monkeypatch):
    import egnn_lite.nbody.train as nbody_train

    seen = {}
    real_fit = nbody_train.fit

    def spy(model, loss, n_train, **kw):
        seen["n_train"] = n_train
        return real_fit(model, loss, n_train, **kw)

    monkeypatch.setattr(nbody_train, "fit", spy)
    train, valid = data
    train_model("linear", train[:50], valid[:20], epochs=1, eval_every=1, progress=False, time_reversal=True)
    assert seen["n_train"] == 100
    train_model("linear", train[:50], valid[:20], epochs=1, eval_every=1, progress=False)
    assert seen["n_train"] == 50


@pytest.mark.parametrize("name", ("egnn_vel_rollout", "linear"))
def test_the_rollout_models_predict_an_equivariant_state(name, data):
    """Positions go to Qx + g, the predicted velocities to Qv: never translated."""
    torch.manual_seed(1)
    model = build_model(name).double()
    x, v = (t[0].double() for t in data[0].state(30))
    q = data[0].q[0].double().unsqueeze(1)

    def f(h, x, edge_index, v):
        return predict_state(model, name, Batch(x, v, h[:, 0], edge_index, torch.zeros_like(x)))

    report = check_equivariance(f, q, x, fully_connected(5), v=v, outputs=("position", "vector"))
    assert report.passed, report
    # negative control: the same velocities declared as positions must fail translation
    wrong = check_equivariance(f, q, x, fully_connected(5), v=v, outputs=("position", "position"))
    assert wrong.worst("translation") > 1e-2


def test_momentum_is_conserved_by_the_data_and_by_egnn_newton_only(data):
    train, _ = data
    (x0, v0), (x1, _) = train.state(30), train.state(40)
    sim = momentum_error(x0, v0, x1)
    # the simulator conserves momentum up to float32 storage, except in close encounters where the
    # force-norm limit acts on one particle of a pair and not the other (about 7 % of trajectories)
    assert sim.median() < 1e-6 and 0 < (sim > 1e-4).float().mean() < 0.2
    b = make_batch(train, slice(0, 50))
    torch.manual_seed(0)
    errs = {}
    for name in ("egnn_newton", "egnn_vel"):
        model = build_model(name)
        with torch.no_grad():  # weights far from their tame start, so phi_v and phi_x matter
            for p in model.parameters():
                p.add_(0.03 * torch.randn_like(p))
            x_out = predict(model, name, b).reshape(50, 5, 3)
        errs[name] = momentum_error(x0[:50], v0[:50], x_out).max().item()
    assert errs["egnn_newton"] < 1e-4 and errs["egnn_vel"] > 1e-2, errs


def test_rollout_feeds_the_model_its_own_output(data):
    _, valid = data
    d = load_split("test")[:30]
    torch.manual_seed(0)
    model = build_model("egnn_vel_rollout")
    traj = rollout(model, "egnn_vel_rollout", d)
    assert traj.shape == (30, 5, 5, 3) and torch.isfinite(traj).all()
    with torch.no_grad():  # two steps by hand from the true frame 30
        first = predict_state(model, "egnn_vel_rollout", make_batch(d, frame=30, target_frame=40))
        b2 = Batch(first[0], first[1], d.q.reshape(-1).float(), make_batch(d).edge_index, first[0])
        second = predict_state(model, "egnn_vel_rollout", b2)[0]
    torch.testing.assert_close(traj[:, 1].reshape(-1, 3), second)
    # the Linear baseline keeps v: x_k = x_30 + k t v_30
    lin = build_model("linear")
    traj = rollout(lin, "linear", d, frames=(40, 50, 60))
    x0, v0 = d.state(30)
    torch.testing.assert_close(traj[:, 2], x0 + 3 * 0.7 * v0)
    with pytest.raises(ValueError, match="10 apart"):
        rollout(lin, "linear", d, frames=(40, 60))
    with pytest.raises(ValueError, match="positions only"):
        rollout(build_model("egnn_vel"), "egnn_vel", d)


@pytest.mark.parametrize("name", ("egnn_vel_rollout", "gnn_rollout"))
def test_a_short_training_run_teaches_the_rollout_models_velocities_too(name, data):
    train, valid = data
    torch.manual_seed(0)
    model = build_model(name)
    b = make_batch(valid)

    def v_err(m):
        with torch.no_grad():
            return ((predict_state(m, name, b)[1] - b.target_v) ** 2).mean().item()

    before = v_err(model)
    model, _ = train_model(name, train, valid, epochs=6, eval_every=2, progress=False, lr=2e-3)
    assert v_err(model) < 0.85 * before


def test_a_rollout_that_blows_up_loses_that_trajectory_only():
    d = load_split("test")[list(range(6))]  # a copy: the edit below must not reach other tests
    lin = build_model("linear")
    d.v[2, d.frame(30), 0, 0] = float("inf")  # trajectory 2 starts broken
    traj = rollout(lin, "linear", d)
    assert traj[2].isnan().all() and torch.isfinite(traj[[0, 1, 3, 4, 5]]).all()
