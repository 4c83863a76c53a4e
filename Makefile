# The two commands of the README. Each sets up .venv from nothing, then runs.
#   make example   install scitune and extract the bundled example papers into out/examples
#   make test      install scitune with training and test extras and run the whole test suite
#   make train-example  (after example) train the tiny CPU model on out/examples/instructions

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is installed first and pinned: letting pip resolve an unpinned torch pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

.PHONY: example test train-example system-deps

# Ghostscript renders EPS graphics of LaTeX sources; without it those floats become error rows.
system-deps:
	@command -v gs >/dev/null || (apt-get update -qq && apt-get install -y -qq ghostscript >/dev/null) \
		|| echo "note: ghostscript not installed; EPS graphics will be error rows and EPS tests skipped"
	@command -v tesseract >/dev/null || apt-get install -y -qq tesseract-ocr >/dev/null || echo "note: tesseract-ocr not installed; --ocr-engine tesseract unavailable"

example: $(BIN)/python system-deps
	$(BIN)/pip install -q -e .
	$(BIN)/scitune-curate extract examples/papers -o out/examples --instructions --license MIT
	$(BIN)/scitune-curate validate out/examples

test: $(BIN)/python system-deps
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[train,test]'
	$(BIN)/python -m pytest

train-example: example
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[train]'
	$(BIN)/scitune-train finetune --config tiny-cpu --data out/examples -o runs/tiny-cpu
