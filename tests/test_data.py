import pytest
import torch

from helpers.data import (
    Standardizer,
    make_grid,
    make_product_data,
    prepare_product_data,
    train_test_split,
)

# ---- make_product_data ------------------------------------------------------------------------


def test_shapes_dtypes_and_range_follow_the_notes():
    X, Y = make_product_data(1000, seed=0)
    assert X.shape == (1000, 2) and Y.shape == (1000, 1)
    assert X.dtype == torch.float32 and Y.dtype == torch.float32
    assert X.min() >= 1.0 and X.max() < 10.0
    assert torch.allclose(Y[:, 0], X[:, 0] * X[:, 1])


def test_custom_range_and_noise():
    X, Y = make_product_data(500, low=-2.0, high=3.0, noise_std=0.5, seed=1)
    assert X.min() >= -2.0 and X.max() < 3.0
    residual = Y[:, 0] - X[:, 0] * X[:, 1]
    assert 0.4 < residual.std().item() < 0.6


def test_seed_makes_data_reproducible_without_touching_global_state():
    torch.manual_seed(0)
    before = torch.rand(1)
    a = make_product_data(10, seed=5)
    b = make_product_data(10, seed=5)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    torch.manual_seed(0)
    assert torch.equal(torch.rand(1), before)


def test_global_seed_path_matches_the_notes_recipe():
    torch.manual_seed(1)
    x1 = 1 + 9 * torch.rand(1000)
    x2 = 1 + 9 * torch.rand(1000)
    torch.manual_seed(1)
    X, Y = make_product_data(1000)
    assert torch.equal(X[:, 0], x1) and torch.equal(X[:, 1], x2)
    assert torch.equal(Y[:, 0], x1 * x2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 1}, "at least 2"),
        ({"n_samples": 10.0}, "must be an int"),
        ({"low": 5.0, "high": 5.0}, "low must be smaller than high"),
        ({"low": 10.0, "high": 1.0}, "low must be smaller than high"),
        ({"low": float("nan")}, "finite"),
        ({"high": float("inf")}, "finite"),
        ({"noise_std": -1.0}, "noise_std must be >= 0"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_product_data(**kwargs)


# ---- train_test_split -------------------------------------------------------------------------


def test_split_sizes_disjoint_and_reproducible():
    X, Y = make_product_data(100, seed=0)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_fraction=0.2, seed=3)
    assert X_train.shape == (80, 2) and X_test.shape == (20, 2)
    assert Y_train.shape == (80, 1) and Y_test.shape == (20, 1)
    rows = {tuple(r) for r in X_train.tolist()} | {tuple(r) for r in X_test.tolist()}
    assert len(rows) == 100  # every row lands in exactly one part
    again = train_test_split(X, Y, test_fraction=0.2, seed=3)
    assert torch.equal(again[1], X_test)
    other = train_test_split(X, Y, test_fraction=0.2, seed=4)
    assert not torch.equal(other[1], X_test)
    # rows stay paired with their targets
    assert torch.allclose(Y_test[:, 0], X_test[:, 0] * X_test[:, 1])


@pytest.mark.parametrize(
    ("X", "Y", "fraction", "message"),
    [
        (torch.zeros(10, 2), torch.zeros(9, 1), 0.2, "same number of rows"),
        (torch.zeros(10), torch.zeros(10, 1), 0.2, "2-D"),
        (torch.zeros(10, 2), torch.zeros(10, 1), 0.0, "strictly between 0 and 1"),
        (torch.zeros(10, 2), torch.zeros(10, 1), 1.0, "strictly between 0 and 1"),
        (torch.zeros(2, 2), torch.zeros(2, 1), 0.01, "empty train or test"),
        ([[1.0, 2.0]], torch.zeros(1, 1), 0.5, "torch tensors"),
    ],
)
def test_bad_split_arguments(X, Y, fraction, message):
    with pytest.raises(ValueError, match=message):
        train_test_split(X, Y, test_fraction=fraction)


# ---- Standardizer -----------------------------------------------------------------------------

DATA = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])


def test_fit_learns_column_means_and_unbiased_stds():
    scaler = Standardizer().fit(DATA)
    assert torch.allclose(scaler.mean, torch.tensor([2.5, 25.0]))
    # unbiased std of 1, 2, 3, 4 is sqrt(5/3) = 1.2910
    assert torch.allclose(scaler.std, torch.tensor([1.2910, 12.910]), atol=1e-3)


def test_population_std_divides_by_n():
    scaler = Standardizer(unbiased=False).fit(DATA)
    assert torch.allclose(scaler.std, torch.tensor([1.1180, 11.180]), atol=1e-3)


def test_transform_gives_known_values_mean_zero_std_one():
    scaler = Standardizer().fit(DATA)
    z = scaler.transform(DATA)
    expected_col = torch.tensor([-1.1619, -0.3873, 0.3873, 1.1619])
    assert torch.allclose(z[:, 0], expected_col, atol=1e-4)
    assert torch.allclose(z[:, 1], expected_col, atol=1e-4)
    assert torch.allclose(z.mean(dim=0), torch.zeros(2), atol=1e-6)
    assert torch.allclose(z.std(dim=0), torch.ones(2), atol=1e-6)


def test_inverse_transform_round_trips():
    X, _ = make_product_data(200, seed=0)
    scaler = Standardizer().fit(X)
    assert torch.allclose(scaler.inverse_transform(scaler.transform(X)), X, atol=1e-5)


def test_transform_uses_training_statistics_not_the_new_data():
    scaler = Standardizer().fit(DATA)
    new = torch.tensor([[2.5, 25.0], [5.0, 50.0]])
    z = scaler.transform(new)
    assert torch.allclose(z[0], torch.zeros(2), atol=1e-6)  # the training mean maps to 0
    assert z[1].tolist() == pytest.approx([1.9365, 1.9365], abs=1e-3)  # (5 - 2.5) / 1.2910: beyond the data


def test_fit_transform_equals_fit_then_transform():
    a = Standardizer().fit_transform(DATA)
    b = Standardizer().fit(DATA).transform(DATA)
    assert torch.equal(a, b)


def test_dict_round_trip_is_plain_python():
    scaler = Standardizer().fit(DATA)
    state = scaler.to_dict()
    assert isinstance(state["mean"], list) and isinstance(state["std"][0], float)
    rebuilt = Standardizer.from_dict(state)
    assert torch.allclose(rebuilt.transform(DATA), scaler.transform(DATA))
    assert rebuilt.unbiased is True


def test_repr_shows_statistics():
    assert "not fitted" in repr(Standardizer())
    assert "mean=[2.5, 25.0]" in repr(Standardizer().fit(DATA))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (torch.tensor([1.0, 2.0, 3.0]), "2-D tensor"),
        (torch.tensor([[1.0, 2.0]]), "at least 2 rows"),
        (torch.tensor([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]]), r"column\(s\) \[1\] have zero spread"),
        (torch.tensor([[1.0, float("nan")], [2.0, 3.0]]), "non-finite"),
        (torch.tensor([[1.0, float("inf")], [2.0, 3.0]]), "non-finite"),
        (torch.tensor([[1, 2], [3, 4]]), "floating-point"),
        ([[1.0, 2.0], [3.0, 4.0]], "torch tensor"),
    ],
)
def test_fit_rejects_bad_data(data, message):
    with pytest.raises(ValueError, match=message):
        Standardizer().fit(data)


def test_transform_before_fit_is_an_error():
    with pytest.raises(ValueError, match="before fit"):
        Standardizer().transform(DATA)
    with pytest.raises(ValueError, match="before fit"):
        Standardizer().inverse_transform(DATA)
    with pytest.raises(ValueError, match="before fit"):
        Standardizer().to_dict()


def test_transform_with_wrong_number_of_columns():
    scaler = Standardizer().fit(DATA)
    with pytest.raises(ValueError, match="expects 2 column"):
        scaler.transform(torch.zeros(3, 1))


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"mean": [1.0]}, "expects a dict with keys 'mean' and 'std'"),
        ({"mean": [1.0, 2.0], "std": [1.0]}, "equal-length, non-empty"),
        ({"mean": [1.0], "std": [0.0]}, "every 'std' must be > 0"),
        ({"mean": [], "std": []}, "equal-length, non-empty"),
        ("not a dict", "expects a dict"),
    ],
)
def test_from_dict_rejects_bad_state(state, message):
    with pytest.raises(ValueError, match=message):
        Standardizer.from_dict(state)


# ---- make_grid --------------------------------------------------------------------------------


def test_grid_covers_the_square_in_imshow_order():
    axis1, axis2, points = make_grid(1.0, 10.0, 4)
    assert points.shape == (16, 2)
    assert torch.allclose(axis1, torch.tensor([1.0, 4.0, 7.0, 10.0]))
    values = (points[:, 0] * 10 + points[:, 1]).reshape(4, 4)
    # rows follow X2, columns follow X1
    assert values[0, 3] == 10 * 10 + 1 and values[3, 0] == 1 * 10 + 10


@pytest.mark.parametrize(
    ("low", "high", "steps", "message"),
    [
        (1.0, 1.0, 5, "low must be smaller than high"),
        (1.0, 2.0, 1, "steps must be an int >= 2, got 1"),
        (0.0, 1.0, 2.5, "got 2.5"),
    ],
)
def test_grid_rejects_bad_arguments(low, high, steps, message):
    with pytest.raises(ValueError, match=message):
        make_grid(low, high, steps)


# ---- prepare_product_data ----------------------------------------------------------------------


def test_prepare_product_data_is_notebook_05_step_by_step():
    data = prepare_product_data()  # the course's defaults: 1250 samples, 250 held out, seeds 0
    X, Y = make_product_data(1250, seed=0)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, 0.2, seed=0)
    x_scaler = Standardizer().fit(X_train)
    assert torch.equal(data.X_train, X_train) and torch.equal(data.Y_test, Y_test)
    assert torch.equal(data.X_test_std, x_scaler.transform(X_test))  # scaled with the training statistics
    assert data.X_train_std.shape == (1000, 2) and data.Y_test_std.shape == (250, 1)
    # fitted on the training rows only: the held-out rows are not at mean 0 exactly
    assert torch.allclose(data.Y_train_std.mean(), torch.tensor(0.0), atol=1e-5)
    assert abs(data.Y_test_std.mean().item()) > 1e-3
    assert data.standardized == (data.X_train_std, data.Y_train_std, data.X_test_std, data.Y_test_std)


def test_prepare_product_data_passes_its_settings_on():
    data = prepare_product_data(100, 2.0, 5.0, noise_std=1.0, test_fraction=0.5, data_seed=3, split_seed=4)
    assert data.X_train.shape == (50, 2) and data.X_test.shape == (50, 2)
    assert data.X_train.min() >= 2.0 and data.X_train.max() < 5.0
    product = data.X_train[:, :1] * data.X_train[:, 1:]
    assert (data.Y_train - product).abs().max() > 0.5  # the noise is there
    with pytest.raises(ValueError, match="test_fraction"):
        prepare_product_data(test_fraction=1.5)
