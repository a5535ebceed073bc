"""Shared test setup: no screen, so matplotlib draws off-screen."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
