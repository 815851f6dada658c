# The commands a new user needs (see README.md):
#   make lab   - set up .venv and open JupyterLab on notebooks/
#                (EGNN_LITE_PROJECTOR=1 make lab: larger fonts and lines in every notebook and widget)
#   make test  - set up .venv and run the whole test suite
#   make book  - execute every notebook at full size and write the static HTML book to book/
PYTHON ?= python3.11
VENV   ?= .venv
# extra options for pip, e.g. PyTorch's CPU-only wheel index on Linux (see README.md)
PIP_ARGS ?=
# JupyterLab refuses to run as root (containers, CI) unless told to
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test book bench bench-scaling bench-edges bench-nbody bench-notebooks figures setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet $(PIP_ARGS) -e '.[test]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

# book/index.html and a page per notebook; notebooks whose code, egnn_lite and data/ are unchanged
# come from book/.cache (BOOK_ARGS="--force" runs them all again, "--size reduced" for a quick look)
BOOK_ARGS ?=
book: $(STAMP)
	$(BIN)/python tools/build_book.py $(BOOK_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_layers.py

# complete against radius and kNN graphs as N grows from 10 to 10,000 nodes: the O(N^2) wall
bench-scaling: $(STAMP)
	$(BIN)/python benchmarks/bench_scaling.py

# soft edges (Eq. 8) against no soft edges and a radius graph, three seeds, on notebook 04's task
bench-edges: $(STAMP)
	$(BIN)/python benchmarks/bench_edges.py

# the N-body experiment: EGNN-vel's validation and test MSE over three seeds (about 20 minutes);
# the speed part against the official code and the data-efficiency sweep: see benchmarks/README.md
bench-nbody: $(STAMP)
	$(BIN)/python benchmarks/bench_nbody.py accuracy

# the live demo's slider-to-redraw latency in a real browser, and each notebook's wall time at full size
bench-notebooks: $(STAMP)
	$(BIN)/python benchmarks/bench_notebooks.py

# the still frames and animations of the widgets (notebooks 01, 03 and 06), for readers without a live kernel
figures: $(STAMP)
	$(BIN)/python -m egnn_lite.widgets notebooks/figures

clean:
	rm -rf $(VENV)
