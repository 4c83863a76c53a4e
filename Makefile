# The two commands of the README. Each sets up .venv from nothing, then runs.
#   make example   install scitune, extract the bundled example papers into out/examples, write its review page
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

.PHONY: example test lint train-example system-deps test-deps

# System packages (Debian), installed with apt-get when missing: each says what and why before it
# installs; `make ... SYSTEM_DEPS=no` installs none and names what is missing.
SYSTEM_DEPS ?= yes
# $(call system_package,PACKAGE,COMMAND,WHY)
system_package = @if command -v $(2) >/dev/null 2>&1; then :; \
	elif [ "$(SYSTEM_DEPS)" = no ]; then \
		echo "note: $(1) is not installed (SYSTEM_DEPS=no): $(3). To install it: apt-get install $(1)"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "note: $(1) is not installed and this system has no apt-get: $(3). Install $(1) by hand."; \
	else \
		echo "installing the Debian package $(1) (apt-get install $(1)), because $(3) (SYSTEM_DEPS=no skips this)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		( $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(1) >/dev/null ) \
			|| echo "note: installing $(1) failed: $(3). To install it: apt-get install $(1)"; \
	fi

system-deps:
	$(call system_package,ghostscript,gs,ghostscript renders the EPS graphics of LaTeX sources (without it those floats are error rows))

test-deps:
	$(call system_package,chromium,chromium,the review page tests drive Debian's headless chromium (without it they skip))
	$(call system_package,tesseract-ocr,tesseract,tesseract is the alternative OCR engine (--ocr-engine tesseract))

example: $(BIN)/python system-deps
	$(BIN)/pip install -q -e .
	$(BIN)/scitune-curate extract examples/papers -o out/examples --instructions --default-license MIT
	$(BIN)/scitune-curate validate out/examples
	$(BIN)/scitune-curate review out/examples --no-progress
	@echo "scitune is installed in $(VENV)/: run '. $(VENV)/bin/activate' to use scitune-curate and scitune-train"
	@echo "(or call $(BIN)/scitune-curate directly); the review page is out/examples/review/index.html"

# [ray]: the Ray engine's tests run on a local Ray (2 CPUs) in CI
test: $(BIN)/python system-deps test-deps
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
