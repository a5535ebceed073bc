"""Exercise checks: a student's answer goes in, "correct" or "expected ..., got ..." comes out.

Each exercise is registered once, under a key such as ``"01.stack_shape"``, with
a reference answer (or a function that computes it), a comparison and a hint.
``check(key, answer)`` prints a clear verdict and returns ``True``/``False``,
so a notebook cell can also ``assert check(...)`` where the answer is the
reference solution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

Verdict = tuple[bool, str]


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``judge(answer)`` returns (ok, what was expected / what went wrong)."""

    key: str
    question: str
    judge: Callable[[Any], Verdict]
    hint: str


EXERCISES: dict[str, Exercise] = {}


def register(key: str, question: str, judge: Callable[[Any], Verdict], hint: str) -> Exercise:
    """Add an exercise to the registry (keys are unique)."""
    if key in EXERCISES:
        raise ValueError(f"exercise {key!r} is already registered")
    exercise = Exercise(key, question, judge, hint)
    EXERCISES[key] = exercise
    return exercise


def check(key: str, answer: Any) -> bool:
    """Check ``answer`` for exercise ``key``; print the verdict and return whether it is right."""
    if key not in EXERCISES:
        known = ", ".join(sorted(EXERCISES)) or "none"
        raise ValueError(f"unknown exercise {key!r}; known exercises: {known}")
    exercise = EXERCISES[key]
    try:
        ok, detail = exercise.judge(answer)
    except Exception as error:  # a student's function may raise anything
        ok, detail = False, f"your answer raised {type(error).__name__}: {error}"
    if ok:
        print(f"✅ {key}: correct. {detail}".rstrip())
    else:
        print(f"❌ {key}: {detail}\n   Hint: {exercise.hint}")
    return ok


# ---- judges: small factories that compare an answer with a reference -----------------------


def equals(expected: Any) -> Callable[[Any], Verdict]:
    """Exact match (ints, strings, tuples); tensors' shapes compare as tuples."""

    def judge(answer: Any) -> Verdict:
        if isinstance(answer, torch.Size):
            answer = tuple(answer)
        if answer == expected:
            return True, ""
        return False, f"expected {expected!r}, got {answer!r}"

    return judge


def close_to(expected: float, *, rel: float = 1e-3, abs_: float = 1e-6) -> Callable[[Any], Verdict]:
    """A number within a relative tolerance ``rel`` (or absolute ``abs_``) of ``expected``."""

    def judge(answer: Any) -> Verdict:
        if isinstance(answer, torch.Tensor):
            if answer.numel() != 1:
                return False, f"expected one number, got a tensor of shape {tuple(answer.shape)}"
            answer = answer.item()
        if isinstance(answer, bool) or not isinstance(answer, (int, float)):
            return False, f"expected a number, got {type(answer).__name__} {answer!r}"
        if math.isclose(answer, expected, rel_tol=rel, abs_tol=abs_):
            return True, ""
        return False, f"expected {expected:.4g}, got {answer:.4g}"

    return judge


def function_matches(
    reference: Callable[..., torch.Tensor],
    inputs: list[tuple[Any, ...]],
    *,
    atol: float = 1e-5,
) -> Callable[[Any], Verdict]:
    """A student's function must give the reference's output on each input (allclose)."""

    def judge(answer: Any) -> Verdict:
        if not callable(answer):
            return False, f"expected a function, got {type(answer).__name__}"
        for args in inputs:
            want = reference(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])
            got = answer(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])
            got = torch.as_tensor(got)
            if got.shape != want.shape:
                return False, f"expected output shape {tuple(want.shape)}, got {tuple(got.shape)}"
            if not torch.allclose(got.float(), want.float(), atol=atol):
                return False, f"expected {want.tolist()}, got {got.tolist()}"
        return True, f"(checked on {len(inputs)} input(s))"

    return judge


# ---- 00 · start here ----------------------------------------------------------------------------

register(
    "00.first_check",
    "With X2 = 3, which X1 makes X1 * X2 = 24? (Use the slider, or think.)",
    close_to(8.0),
    "Move the X1 slider until the text reads 24.00, or divide 24 by 3.",
)


# ---- 01 · data and standardization ------------------------------------------------------------

register(
    "01.stack_shape",
    "a and b are tensors of shape (5,). What is the shape of torch.stack([a, b], dim=1)? (a tuple)",
    equals((5, 2)),
    "dim=1 puts the new axis second: one row per sample, one column per tensor stacked.",
)

register(
    "01.population_std",
    "What is the population std (divide by N, correction=0) of [1., 2., 3., 4.]? (a number)",
    close_to(1.25**0.5),
    "mean = 2.5; squared deviations 2.25, 0.25, 0.25, 2.25 sum to 5; divide by N = 4, then take the root.",
)


def _to_original_units(y_standardized: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return y_standardized * std + mean


_to_original_units_matches = function_matches(
    _to_original_units,
    [
        (torch.tensor([[0.5], [-1.0], [0.0]]), 30.25, 20.0),
        (torch.tensor([[2.0], [1.5]]), -3.0, 0.5),
    ],
)


def _judge_to_original_units(answer: Any) -> Verdict:
    if callable(answer) and answer(torch.tensor([[0.5]]), 30.25, 20.0) is None:
        return False, "your function returned None: finish it with `return <the value in original units>`"
    return _to_original_units_matches(answer)


register(
    "01.to_original_units",
    "Write to_original_units(y_standardized, mean, std) that undoes z = (y - mean) / std.",
    _judge_to_original_units,
    "Solve z = (y - mean) / std for y: multiply by std first, then add mean.",
)


# ---- 02 · tensors, nn.Parameter and nn.Linear ---------------------------------------------------

register(
    "02.linear_weight_shape",
    "What is the shape of nn.Linear(5, 2).weight? (a tuple)",
    equals((2, 5)),
    "The weight is stored as (out_features, in_features): one row per output.",
)

register(
    "02.parameter_count",
    "A module sets self.w = nn.Parameter(torch.randn(4, 3)), self.b = nn.Parameter(torch.zeros(4)) and "
    "self.scale = torch.ones(4). How many numbers do its parameters() hold in total? (an int)",
    equals(16),
    "Only nn.Parameter attributes are registered: count w and b, not the plain tensor scale.",
)


def _linear_by_hand(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return x @ weight.T + bias


register(
    "02.linear_by_hand",
    "Write linear(x, weight, bias) that returns what nn.Linear computes (x has shape (N, in)).",
    function_matches(
        _linear_by_hand,
        [
            (torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.5, -1.0, 0.0, 2.0]]),
             torch.arange(12.0).reshape(3, 4) / 10, torch.tensor([0.1, -0.2, 0.3])),
            (torch.tensor([[2.0, -1.0]]), torch.tensor([[1.0, 3.0]]), torch.tensor([0.5])),
        ],
    ),
    "y = x · Wᵀ + b: transpose the weight (out, in) so that (N, in) @ (in, out) gives (N, out).",
)


# ---- 03 · softmax and debugging -------------------------------------------------------------------

def _stable_softmax(logits: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits, dim=-1)


register(
    "03.stable_softmax",
    "Write stable_softmax(logits) for a 2-D tensor (softmax of each row) that does not overflow "
    "for logits like 1000.",
    function_matches(
        _stable_softmax,
        [
            (torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),),
            (torch.tensor([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1005.0]]),),
        ],
    ),
    "Subtract each row's maximum (keepdim=True) before exp, then divide by the row sum.",
)

register(
    "03.iloc_shape",
    "data = pd.DataFrame([[1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 6]]). "
    "What is data.iloc[1:3, :-1].shape? (a tuple)",
    equals((2, 3)),
    "Rows 1:3 are rows 1 and 2 (the end is excluded); :-1 keeps every column but the last.",
)

register(
    "03.accuracy",
    "logits = [[2.0, 0.5, 0.1], [0.2, 0.3, 1.5], [1.0, 2.0, 0.0], [0.3, 0.2, 0.1]], "
    "labels = [0, 2, 0, 0]. What is the accuracy (a number between 0 and 1)?",
    close_to(0.75),
    "The predicted class of a row is argmax(dim=1) of its logits; accuracy = mean(predicted == labels).",
)


# ---- 04 · autograd and the training step ---------------------------------------------------------

register(
    "04.one_weight_grad",
    "y_pred = w * x + b with w = 1.0, b = 0.5, one sample x = 2.0, y = 7.0, loss = (y_pred - y)². "
    "What is dloss/dw? (a number)",
    close_to(-18.0),
    "dloss/dw = 2 · (y_pred - y) · x; first compute y_pred = 2.5.",
)

register(
    "04.steps",
    "500 training samples, batch size 50, 20 epochs: how many optimizer steps (iterations)? (an int)",
    equals(200),
    "Steps per epoch = samples / batch size; multiply by the number of epochs.",
)


def _mse_grad(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return 2 * (prediction - target) / prediction.numel()


register(
    "04.mse_grad",
    "Write mse_grad(prediction, target) that returns d(MSE)/d(prediction) for "
    "MSE = ((prediction - target) ** 2).mean().",
    function_matches(
        _mse_grad,
        [
            (torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([[0.0], [2.5], [1.0]])),
            (torch.tensor([[0.5, -1.0], [2.0, 0.0]]), torch.tensor([[1.0, 1.0], [1.0, 1.0]])),
        ],
    ),
    "The derivative of (p - t)² is 2 (p - t); the mean divides every term by the number of elements.",
)


# ---- 05 · train the product MLP -----------------------------------------------------------------

register(
    "05.steps_per_epoch",
    "1000 training samples, batch_size 64, the last partial batch kept: how many optimizer steps "
    "does one epoch take? (an int)",
    equals(16),
    "range(0, 1000, 64) starts a batch at 0, 64, ..., 960: count them (15 full batches and one of 40).",
)

register(
    "05.true_epoch_mean",
    "An epoch has three batches of 100, 100 and 50 samples with mean losses 0.2, 0.4 and 1.0. "
    "What is the mean loss over all 250 samples? (a number)",
    close_to(0.44),
    "Weight each batch's mean by its size: (0.2*100 + 0.4*100 + 1.0*50) / 250. "
    "The plain average of the three numbers over-counts the small batch.",
)

register(
    "05.param_count",
    "How many parameters has a 2-32-16-1 network (Linear layers with biases)? (an int)",
    equals(641),
    "Each Linear(n_in, n_out) has n_in * n_out weights and n_out biases: add the three layers.",
)

register(
    "05.to_original_units",
    "The model outputs 0.5 (standardized units). The Y standardizer has mean 30.25 and std 20. "
    "What is the prediction in original units? (a number)",
    close_to(40.25),
    "Undo (y - mean) / std: y = output * std + mean.",
)


# ---- 06 · DataLoader ----------------------------------------------------------------------------

register(
    "06.loader_len",
    "A dataset of 1000 samples, DataLoader(batch_size=64): what is len(loader), and what is it with "
    "drop_last=True? (a tuple of two ints)",
    equals((16, 15)),
    "len(loader) is the number of batches: the last, smaller batch counts unless drop_last=True.",
)

register(
    "06.item_shapes",
    "For ProductDataset of the notebook, what are the shapes of x and y in `x, y = dataset[0]`? "
    "(a tuple of two tuples)",
    equals(((2,), (1,))),
    "One sample is one row: the row of X (N, 2) and the row of Y (N, 1), without the N.",
)

register(
    "06.getitem_calls",
    "Training 1000 epochs on 1000 samples with DataLoader(batch_size=100, shuffle=True) over a "
    "map-style Dataset: how many times is __getitem__ called in total? (an int)",
    equals(1_000_000),
    "The default sampler fetches every sample one by one, every epoch: samples × epochs.",
)


# ---- 07 · playground ----------------------------------------------------------------------------

register(
    "07.parameter_count",
    "How many learnable parameters does ProductMLP(hidden_sizes=(4, 4)) have? (an int)",
    equals(37),
    "Each Linear(n_in, n_out) has n_in * n_out weights and n_out biases: 2→4, 4→4, 4→1.",
)

register(
    "07.linear_grid_rmse",
    "With no hidden layer (a linear model) and the notes' other settings, what grid RMSE does the "
    "playground show? (a number, two significant digits are enough)",
    # The best plane through X1 * X2 on [1, 10]² misses by (X1 - 5.5)(X2 - 5.5): an RMSE of about 6.75;
    # 1000 epochs of Adam get the playground to 6.9. Any reading from 6.3 to 7.5 is accepted.
    close_to(6.9, rel=0.09),
    "Clear the 'hidden widths' box, press Enter, wait for 'done' and read the grid RMSE.",
)


# ---- 09 · from notebook to project --------------------------------------------------------------


def _judge_train_flags(answer: Any) -> Verdict:
    """The flags must make ``python -m helpers.train`` train 50 epochs at lr 0.01 into the folder 'try'."""
    import contextlib
    import io

    from helpers.train import build_parser, overrides_from_args  # on top of the flow: imported when used

    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer):
        return False, f"expected a list of strings such as ['--epochs', '50', ...], got {answer!r}"
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # argparse's own usage message is not for here
            overrides = overrides_from_args(build_parser().parse_args(list(answer)))
    except SystemExit:
        return False, f"python -m helpers.train does not accept {' '.join(answer)!r} (see its --help)"
    wanted = {"training.epochs": 50, "training.lr": 0.01, "output.output_dir": "try"}
    if overrides == wanted:
        return True, ""
    wrong = {key: overrides.get(key) for key in wanted if overrides.get(key) != wanted[key]}
    extra = sorted(set(overrides) - set(wanted))
    parts = [f"{key} is not set" if value is None else f"{key} is {value!r}" for key, value in wrong.items()]
    parts += [f"{key} is changed but should stay as in the file" for key in extra]
    return False, "your flags give: " + "; ".join(parts)


register(
    "09.train_flags",
    "Which flags (a list of strings) make `python -m helpers.train` train for 50 epochs with a learning "
    "rate of 0.01 and write into the folder 'try', leaving every other setting as in the file?",
    _judge_train_flags,
    "Each setting has a flag of the same name with '-' for '_': run `python -m helpers.train --help`.",
)

register(
    "09.checkpoint_count",
    "A run with epochs: 300 and checkpoint_every: 40. How many files does models/checkpoints/RUN/ hold "
    "at the end? (an int)",
    equals(7),
    "A snapshot is written after every epoch whose number is a multiple of 40: 40, 80, ... up to 300.",
)


def _best_epoch(test_losses: list[float]) -> torch.Tensor:
    best = min(range(len(test_losses)), key=lambda i: test_losses[i])  # the first one on a tie
    return torch.tensor(best + 1)


register(
    "09.best_epoch",
    "Write best_epoch_of(test_losses) that returns the epoch (counted from 1, as in the log) with the lowest "
    "held-out loss; on a tie, the earliest.",
    function_matches(
        _best_epoch,
        [([0.9, 0.5, 0.7],), ([0.3],), ([0.4, 0.2, 0.2, 0.6],), ([1.0, 0.8, 0.6, 0.4, 0.2],)],
    ),
    "Find the position of the smallest value (list.index(min(...)) finds the first one), then add 1.",
)

_WHERE_IT_GOES = {
    "learning rate": "configs",
    "training loop": "helpers",
    "best weights": "models",
    "loss of every epoch": "logs",
    "check that evaluate runs": "tests",
}


def _judge_where_it_goes(answer: Any) -> Verdict:
    if not isinstance(answer, dict):
        return False, f"expected a dict like {{'learning rate': 'configs', ...}}, got {type(answer).__name__}"
    missing = sorted(set(_WHERE_IT_GOES) - set(answer))
    if missing:
        return False, f"the dict needs the keys {missing}"
    wrong = sorted(key for key in _WHERE_IT_GOES if answer[key] != _WHERE_IT_GOES[key])
    if wrong:
        return False, f"{len(wrong)} of {len(_WHERE_IT_GOES)} in the wrong folder: {wrong}"
    return True, ""


register(
    "09.where_it_goes",
    "Put each thing in its folder, one of 'configs', 'helpers', 'models', 'logs', 'tests': the learning "
    "rate, the training loop, the best weights, the loss of every epoch, a check that evaluate runs.",
    _judge_where_it_goes,
    "Settings you change between runs / code / files a run writes (weights, numbers) / automatic checks.",
)


# ---- 08 · what did the network learn ------------------------------------------------------------

register(
    "08.kinks_one_layer",
    "A ReLU network with ONE hidden layer of 16 units: at most how many kinks (bends) can its prediction "
    "have along a straight line through input space? (an int)",
    equals(16),
    "Along a line each hidden unit's input w·x + b is a linear function of the position: it crosses 0 "
    "at most once, and only there can that unit's ReLU switch.",
)


def _judge_log_weights(answer: Any) -> Verdict:
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return False, f"expected three numbers (w1, w2, b), got {answer!r}"
    if not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in answer):
        return False, f"expected three numbers (w1, w2, b), got {answer!r}"
    if all(math.isclose(a, e, abs_tol=1e-3) for a, e in zip(answer, (1.0, 1.0, 0.0), strict=True)):
        return True, ""
    return False, f"expected (1, 1, 0) within 0.001, got {tuple(answer)!r}"


register(
    "08.log_weights",
    "log Y = w1 · log X1 + w2 · log X2 + b fits Y = X1 · X2 exactly (no standardization). "
    "What are (w1, w2, b)? (a tuple of three numbers)",
    _judge_log_weights,
    "log(a · b) = log a + log b.",
)

register(
    "08.param_count_64_64",
    "How many learnable parameters has ProductMLP(hidden_sizes=(64, 64)), the largest network of the "
    "capacity table? (an int)",
    equals(4417),
    "Linear(2, 64) + Linear(64, 64) + Linear(64, 1), each with n_in * n_out weights and n_out biases.",
)

_OVERFIT_ANSWERS = {"held-out", "heldout", "held out", "test", "held-out loss", "test loss", "validation"}


def _judge_overfit_signal(answer: Any) -> Verdict:
    if not isinstance(answer, str):
        return False, f"expected a word, 'training' or 'held-out', got {answer!r}"
    if answer.strip().lower() in _OVERFIT_ANSWERS:
        return True, ""
    return False, f"expected 'held-out', got {answer!r}"


register(
    "08.overfit_signal",
    "Training on noisy Y: which loss tells you that the model has started to overfit, the 'training' "
    "loss or the 'held-out' loss? (a string)",
    _judge_overfit_signal,
    "The training loss keeps falling while the model memorizes the noise; look for the curve that turns up.",
)
