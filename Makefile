# Two commands for students and teachers:
#   make lab    set up .venv (first time only) and open JupyterLab on notebook 00
#   make test   set up .venv (first time only) and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# JupyterLab refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when requirements.txt or pyproject.toml changed since the last install.
$(STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

lab: install
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) notebooks/00_start_here.ipynb

lint: install
	$(BIN)/ruff check .

test: install lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts

# ---- classroom mode (issue 7) ------------------------------------------------------------------
#   make demo   the playground (notebook 07) as a web page without code, for the projector:
#               Voila runs the notebook and shows only its text, plots and sliders (code is hidden).
DEMO_PORT     ?= 8866
DEMO_NOTEBOOK ?= notebooks/07_playground.ipynb
VOILA_FLAGS   ?=# e.g. VOILA_FLAGS=--no-browser (the browser test uses it)

.PHONY: demo
demo: install
	$(BIN)/voila --Voila.ip=127.0.0.1 --port=$(DEMO_PORT) $(VOILA_FLAGS) $(DEMO_NOTEBOOK)
