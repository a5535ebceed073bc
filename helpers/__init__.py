"""Helpers shared by the nn-training-notebooks course.

One module per step of the flow, imported from where it lives:

- ``helpers.seed``       set_seed: one call, same numbers every run
- ``helpers.data``       make the product data, split it, standardize it (prepare_product_data: all three)
- ``helpers.plots``      figures (each function returns a matplotlib Figure)
- ``helpers.widgets``    interactive controls built on the modules above
- ``helpers.exercises``  exercise checks with clear messages

The most used names are re-exported here for short notebook imports.
"""

from helpers.data import Standardizer, make_grid, make_product_data, prepare_product_data, train_test_split
from helpers.plots import use_classroom_style
from helpers.seed import set_seed

__all__ = [
    "Standardizer",
    "make_grid",
    "make_product_data",
    "prepare_product_data",
    "set_seed",
    "train_test_split",
    "use_classroom_style",
]
