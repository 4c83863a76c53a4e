# The two commands of the README. Each sets up .venv from nothing, then runs.
#   make example   install scitune and extract the bundled example papers into out/examples
#   make test      install scitune with training and test extras and run the whole test suite
#   make lint      ruff check and ruff format --check over the tree (ruff is pinned in the test extra)
#   make train-example  (after example) train the tiny CPU model on out/examples/instructions

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is installed first and pinned: letting pip resolve an unpinned torch pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

.PHONY: example test lint train-example system-deps

# Ghostscript renders EPS graphics of LaTeX sources; without it those floats become error rows.
system-deps:
	@command -v gs >/dev/null || (apt-get update -qq && apt-get install -y -qq ghostscript >/dev/null) \
		|| echo "note: ghostscript not installed; EPS graphics will be error rows and EPS tests skipped"
	@command -v tesseract >/dev/null || apt-get install -y -qq tesseract-ocr >/dev/null || echo "note: tesseract-ocr not installed; --ocr-engine tesseract unavailable"

example: $(BIN)/python system-deps
	$(BIN)/pip install -q -e .
	$(BIN)/scitune-curate extract examples/papers -o out/examples --instructions --default-license MIT
	$(BIN)/scitune-curate validate out/examples

# [ray]: the Ray engine's tests run on a local Ray (2 CPUs) in CI
test: $(BIN)/python system-deps
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[train,test,ray]'
	$(BIN)/python -m pytest

# The ruff settings (rules, the few ignores and why) are in pyproject.toml; `ruff format` fixes layout.
lint: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

train-example: example
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[train]'
	$(BIN)/scitune-train finetune --config tiny-cpu --data out/examples -o runs/tiny-cpu
