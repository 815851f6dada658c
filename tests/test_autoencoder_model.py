"""The autoencoder's decoder and the paper's scores, against direct computations."""

import math

import numpy as np
import pytest
import torch

from egnn_lite.autoencoder.model import DistanceDecoder, reconstruction_scores
from egnn_lite.groups import random_orthogonal


def test_decoder_is_the_formula_and_reads_distances_only():
    torch.manual_seed(0)
    dec = DistanceDecoder(w_init=-0.7, b_init=0.3).double()
    z = torch.randn(6, 8, dtype=torch.float64)
    A = dec(z)
    w, b = dec.w.item(), dec.b.item()
    for i in range(6):
        for j in range(6):
            want = 0.0 if i == j else 1 / (1 + math.exp(-(w * float(((z[i] - z[j]) ** 2).sum()) + b)))
            assert A[i, j].item() == pytest.approx(want, rel=1e-12)
    Q = random_orthogonal(8, det=-1, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(dec(z @ Q.T + 3.0), A)  # E(8) acting on z: A_hat unchanged
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(dec(z[perm]), A[perm][:, perm])  # relabel nodes: rows and columns follow
    # negative control: a decoder reading raw coordinates is not invariant
    raw = torch.sigmoid(z @ z.T)
    assert (torch.sigmoid((z @ Q.T + 3.0) @ (z @ Q.T + 3.0).T) - raw).abs().max() > 1e-3


def brute(preds, targets):
    bce, wrong, possible, tp, fp, fn = 0.0, 0, 0, 0, 0, 0
    for p, t in zip(preds, targets):
        n = len(t)
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                q, y = float(p[i, j]), float(t[i, j])
                bce -= y * math.log(q) + (1 - y) * math.log(1 - q)
                hard = q > 0.5
                wrong += hard != bool(y)
                possible += 1
                tp += hard and bool(y)
                fp += hard and not y
                fn += (not hard) and bool(y)
    return bce / len(preds), wrong / possible, tp / (tp + (fp + fn) / 2)


def test_scores_match_a_brute_force_count():
    gen = torch.Generator().manual_seed(3)
    targets, preds = [], []
    for n in (5, 9, 12):
        t = torch.rand(n, n, generator=gen) < 0.3
        t = (t | t.T) & ~torch.eye(n, dtype=torch.bool)
        targets.append(t)
        preds.append(torch.rand(n, n, generator=gen, dtype=torch.float64) * 0.98 + 0.01)
    s = reconstruction_scores(preds, targets)
    bce, err, f1 = brute(preds, targets)
    assert s.bce == pytest.approx(bce, rel=1e-10) and s.error == pytest.approx(err) and s.f1 == pytest.approx(f1)
    assert s.tp + s.fn == sum(int(t.sum()) for t in targets)


def test_all_zero_baseline_and_perfect_prediction():
    t = torch.tensor([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=torch.bool)
    zero = reconstruction_scores([torch.zeros(3, 3, dtype=torch.float64)], [t])
    assert zero.error == pytest.approx(4 / 6) and zero.f1 == 0.0  # the error of "no edges" is the edge density
    perfect = reconstruction_scores([t.double()], [t])
    assert perfect.error == 0.0 and perfect.f1 == 1.0 and perfect.bce == 0.0
    assert "% error 0.00" in str(perfect)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="as many predictions"):
        reconstruction_scores([], [])
    with pytest.raises(ValueError, match=r"\(N, N\)"):
        reconstruction_scores([torch.zeros(3, 4)], [torch.zeros(3, 4)])
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        DistanceDecoder()(torch.zeros(3))


# ---------------------------------------------------------------------------------------------
# batches and the four encoders
# ---------------------------------------------------------------------------------------------

from egnn_lite.autoencoder.model import ENCODERS, AdjacencyBatch, GraphAutoencoder, batch_adjacency  # noqa: E402
from egnn_lite.checks import check_equivariance  # noqa: E402


def _random_graph(n, p, seed):
    g = torch.Generator().manual_seed(seed)
    upper = torch.triu(torch.rand(n, n, generator=g) < p, diagonal=1)
    return (upper | upper.T).numpy()


def test_batch_adjacency_lists_every_pair_with_its_entry():
    graphs = [_random_graph(5, 0.5, 0), _random_graph(3, 0.5, 1)]
    b = batch_adjacency(graphs)
    assert b.sizes == [5, 3] and b.n_nodes == 8 and b.n_graphs == 2
    assert b.edge_index.shape[1] == 5 * 4 + 3 * 2
    offsets = [0, 5]
    for (i, j), a in zip(b.edge_index.T.tolist(), b.a_ij[:, 0].tolist()):
        k = 0 if i < 5 else 1
        assert (j < 5) == (i < 5) and i != j  # pairs stay inside their graph
        assert a == float(graphs[k][i - offsets[k], j - offsets[k]])


@pytest.mark.parametrize("bad, message", [
    (np.array([[0, 1], [0, 0]]), "not symmetric"),
    (np.array([[0, 2], [2, 0]]), "0 or 1"),
    (np.zeros((1, 1)), "at least 2 nodes"),
    (np.zeros((2, 3)), "square"),
])
def test_batch_adjacency_rejects_bad_graphs(bad, message):
    with pytest.raises(ValueError, match=message):
        batch_adjacency([bad])


def test_model_rejects_bad_arguments():
    with pytest.raises(ValueError, match="encoder must be one of"):
        GraphAutoencoder("gat")
    with pytest.raises(ValueError, match="hidden_nf"):
        GraphAutoencoder("egnn", hidden_nf=0)
    b = batch_adjacency([_random_graph(4, 0.5, 0)])
    with pytest.raises(ValueError, match="takes no noise"):
        GraphAutoencoder("gnn").encode(b, noise=torch.zeros(4, 1))
    with pytest.raises(ValueError, match=r"shape \(4, 8\)"):
        GraphAutoencoder("egnn").encode(b, noise=torch.zeros(4, 1))


def _as_graph_function(model, *, noise_as_feature=False):
    """f(h, x, edge_index, edge_attr) -> (z, logits per edge), x being the encoder's noise."""
    def f(h, x, edge_index, edge_attr):
        batch = AdjacencyBatch(edge_index, edge_attr, [x.shape[0]], x.shape[0])
        noise = x[:, :1] if noise_as_feature else x  # noise_as_feature: the first coordinate read as a feature h^0
        z = model.encode(batch, noise=noise)
        i, j = edge_index
        return z, model.decoder.w * ((z[i] - z[j]) ** 2).sum(1, keepdim=True) + model.decoder.b
    return f


def _graph_inputs(n=7, seed=0, k=8):
    from egnn_lite.graphs import fully_connected

    A = torch.as_tensor(_random_graph(n, 0.4, seed), dtype=torch.float64)
    ei = fully_connected(n)
    x = torch.randn(n, k, generator=torch.Generator().manual_seed(seed + 10), dtype=torch.float64)
    return torch.ones(n, 1, dtype=torch.float64), x, ei, A[ei[0], ei[1]].unsqueeze(1)


@pytest.mark.parametrize("encoder", ["egnn", "radial_field"])
def test_coordinate_noise_encoders_are_equivariant_in_their_noise(encoder):
    """EGNN and Radial Field: A_hat unchanged by E(8) acting on the noise x^0; z rotates with it; nodes relabel."""
    torch.manual_seed(0)
    model = GraphAutoencoder(encoder).double()
    for layer in model.layers.modules():  # make phi_x / phi large enough that a broken model would show
        if isinstance(layer, torch.nn.Linear) and layer.out_features == 1:
            torch.nn.init.normal_(layer.weight, std=0.3)
    h, x, ei, a = _graph_inputs()
    f = _as_graph_function(model)
    report = check_equivariance(f, h, x, ei, a, outputs=("position", "edge_invariant"), names=("z", "logit"),
                                transforms=("rotation", "reflection", "permutation"))
    assert report.passed, str(report)
    # translating the noise: A_hat invariant (z moves by (1 - reg)^L g: the shrink is about the origin)
    report = check_equivariance(lambda *args, **kw: f(*args, **kw)[1], h, x, ei, a, outputs=("edge_invariant",), transforms=("translation",))
    assert report.passed, str(report)


def test_noise_in_the_features_is_not_equivariant_in_it():
    """Negative control: the same harness on the noise-GNN, fed the first noise coordinate as h^0, fails rotation."""
    torch.manual_seed(0)
    model = GraphAutoencoder("noise_gnn").double()
    h, x, ei, a = _graph_inputs()
    report = check_equivariance(_as_graph_function(model, noise_as_feature=True), h, x, ei, a,
                                outputs=("invariant", "edge_invariant"), transforms=("rotation", "permutation"))
    by = {(c.transform, c.output): c for c in report.checks}
    assert by[("permutation", "out1")].passed  # relabelling is fine...
    assert not by[("rotation", "out1")].passed  # ...rotating the noise changes A_hat
    assert by[("rotation", "out1")].max_abs > 1e-3


@pytest.mark.parametrize("encoder", ENCODERS)
def test_every_encoder_is_permutation_equivariant_with_the_noise_relabelled(encoder):
    torch.manual_seed(1)
    model = GraphAutoencoder(encoder).double()
    A = _random_graph(9, 0.4, 3)
    noise = model.draw_noise(9, torch.Generator().manual_seed(4))
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(5))
    [out] = model([A], noise=noise)
    [out_p] = model([A[perm.numpy()][:, perm.numpy()]], noise=None if noise is None else noise[perm])
    torch.testing.assert_close(out_p, out[perm][:, perm], rtol=1e-10, atol=1e-12)


def test_symmetry_problem_every_node_of_a_cycle_gets_the_same_embedding():
    """No noise: on a regular graph every node gets the same z, so every pair the same probability."""
    n = 10
    cycle = np.zeros((n, n), dtype=bool)
    for i in range(n):
        cycle[i, (i + 1) % n] = cycle[(i + 1) % n, i] = True
    torch.manual_seed(0)
    gnn = GraphAutoencoder("gnn").double()
    z = gnn.encode(batch_adjacency([cycle], dtype=torch.float64))
    assert (z - z[0]).abs().max() < 1e-12
    [A_hat] = gnn([cycle])
    off = ~torch.eye(n, dtype=torch.bool)
    assert A_hat[off].max() - A_hat[off].min() < 1e-12  # edges and non-edges: one number
    # negative control: with noise in h (or in the coordinates) the tie is broken
    for encoder in ("noise_gnn", "egnn"):
        torch.manual_seed(0)
        noisy = GraphAutoencoder(encoder).double()
        [A_noisy] = noisy([cycle], generator=torch.Generator().manual_seed(0))
        assert A_noisy[off].max() - A_noisy[off].min() > 1e-3


@pytest.mark.parametrize("encoder", ENCODERS)
def test_training_loss_is_the_papers_bce(encoder):
    graphs = [_random_graph(6, 0.4, 0), _random_graph(9, 0.3, 1)]
    torch.manual_seed(0)
    model = GraphAutoencoder(encoder).double()
    b = batch_adjacency(graphs, dtype=torch.float64)
    noise = model.draw_noise(b.n_nodes, torch.Generator().manual_seed(2))
    logits = model.edge_logits(b, noise=noise)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, b.a_ij[:, 0], reduction="sum") / 2
    assert model.loss(b, generator=torch.Generator().manual_seed(2)).item() == pytest.approx(loss.item(), rel=1e-12)
    scores = reconstruction_scores(model(graphs, noise=noise), graphs)
    assert scores.bce == pytest.approx(loss.item(), rel=1e-9)


def test_scores_refuse_nan_predictions():
    with pytest.raises(ValueError, match="diverged"):
        reconstruction_scores([torch.full((3, 3), float("nan"))], [np.zeros((3, 3))])


def test_tied_pairs_counts_by_hand():
    from egnn_lite.autoencoder.model import tied_pairs, wl_colours

    n = 10
    cycle = np.zeros((n, n), dtype=bool)
    for i in range(n):
        cycle[i, (i + 1) % n] = cycle[(i + 1) % n, i] = True
    assert len(set(wl_colours(cycle).tolist())) == 1
    assert tied_pairs([cycle]) == {"pairs": 45, "tied": 45, "forced_errors": 10, "error_floor": 10 / 45}
    path = np.zeros((4, 4), dtype=bool)
    for i in range(3):
        path[i, i + 1] = path[i + 1, i] = True
    c = wl_colours(path)
    assert c[0] == c[3] and c[1] == c[2] and c[0] != c[1]
    # classes: {end, end} one non-edge; {end, mid} two edges and two non-edges; {mid, mid} one edge
    assert tied_pairs([path]) == {"pairs": 6, "tied": 4, "forced_errors": 2, "error_floor": 2 / 6}


def test_the_noiseless_gnn_scores_every_pair_of_a_colour_class_alike():
    """The link between the count and the model: same colours, same probability, for any weights."""
    from egnn_lite.autoencoder import community_small
    from egnn_lite.autoencoder.model import wl_colours

    graphs = community_small("test")[:40]
    torch.manual_seed(0)
    gnn = GraphAutoencoder("gnn").double()
    noisy = GraphAutoencoder("noise_gnn").double()
    checked = broken = 0
    for A, A_hat, A_noisy in zip(graphs, gnn(graphs), noisy(graphs, generator=torch.Generator().manual_seed(0))):
        c = wl_colours(A)
        iu, ju = np.triu_indices(len(A), k=1)
        seen = {}
        for i, j in zip(iu.tolist(), ju.tolist()):
            key = (min(c[i], c[j]), max(c[i], c[j]))
            if key in seen:
                k, l = seen[key]
                assert abs(A_hat[i, j].item() - A_hat[k, l].item()) < 1e-12
                checked += 1
                broken += abs(A_noisy[i, j].item() - A_noisy[k, l].item()) > 1e-6
            else:
                seen[key] = (i, j)
    assert checked > 100
    assert broken > 0.9 * checked  # negative control: with noise in h the same pairs get different probabilities
