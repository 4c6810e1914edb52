"""Edges of `RowAdagrad` that the formula tests in test_train.py leave open (found by mutation testing,
docs/testing.md): each bad hyperparameter refused on its own, the message naming them, and an
accumulator kept in the parameter's dtype."""

import numpy as np
import pytest

import jingu
from w2v.training.optim import RowAdagrad


def _table(dtype=np.float64):
    return jingu.Tensor(np.zeros((4, 3), dtype=dtype), requires_grad=True)


@pytest.mark.parametrize(
    "options", [{"lr": 0.0}, {"lr": -0.1}, {"lr": 0.1, "eps": 0.0}, {"lr": 0.1, "initial_accumulator": -1.0}],
    ids=["lr-zero", "lr-negative", "eps-zero", "accumulator-negative"],
)
def test_each_bad_hyperparameter_is_refused_alone(options):
    with pytest.raises(ValueError, match=r"RowAdagrad needs lr > 0, eps > 0 and initial_accumulator >= 0, got"):
        RowAdagrad([_table()], **options)


def test_the_edge_values_are_accepted():
    opt = RowAdagrad([_table()], lr=1e-12, eps=1e-30, initial_accumulator=0.0)
    assert opt.param_groups[0]["lr"] == 1e-12


def test_a_later_parameter_group_is_checked_and_the_error_names_the_key():
    opt = RowAdagrad([_table()], lr=0.1)
    with pytest.raises(ValueError, match=r"invalid eps: nan"):
        opt.add_param_group({"params": [_table()], "eps": float("nan")})
    with pytest.raises(TypeError, match=r"initial_accumulator must be a number"):
        opt.add_param_group({"params": [_table()], "initial_accumulator": "0"})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_accumulator_has_the_parameters_dtype(dtype):
    """A float32 model keeps a float32 accumulator: float64 would double the state's memory and its
    checkpoint, and round the steps differently."""
    table = _table(dtype)
    opt = RowAdagrad([table], lr=0.1, initial_accumulator=0.25)
    state = opt.state[table]["sum"]
    assert state.dtype == dtype and state.shape == (4,)
    np.testing.assert_array_equal(state, 0.25)
    table.grad = jingu.RowSparse(np.array([1]), np.ones((1, 3), dtype=dtype), (4, 3))
    opt.step()
    assert opt.state[table]["sum"].dtype == dtype and table.data.dtype == dtype


def test_the_accumulators_live_on_the_parameters_device(fake_cuda):
    """On a device (the fake CuPy here) the accumulators are device arrays, as the tables are."""
    import sys

    cupy = sys.modules["cupy"]
    table = jingu.Tensor(cupy.asarray(np.zeros((4, 3), dtype=np.float32)), requires_grad=True)
    opt = RowAdagrad([table], lr=0.1, dense=True)
    assert isinstance(opt.state[table]["sum"], cupy.ndarray)
