# `make run` starts the simulator, `make test` runs the whole suite headless.
# Both create the project's own .venv on first use: `core` and `gui` are generic
# top-level names and must never be installed into a shared environment.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) main.py

# The suite in TEST_WORKERS processes (pytest-xdist), each a whole test file at a time (--dist loadfile: a
# module's shared window or dashboard is built once): CI has 2 cores and the tests use one each, apart from
# the sweeps' and trainer processes' own. `make test TEST_WORKERS=0` runs it in this one process.
TEST_WORKERS ?= 2

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# Issues 14 and 25's figures in one run: the step's rate against this core's DGEMM rate and against
# eager PyTorch, each goal's line saying whether it is met (float64 and float32; PyTorch needs
# `pip install torch==2.13.0` in the venv), then the window's training speed against headless and its
# redraws per second at 8/32/32, 20/32/32, 20/64/64 and 50/256/64, with the trainer where the window
# puts it by itself (auto: its own process on >= 2 cores), headless and window segments alternating in
# 5 rounds.
bench: $(STAMP)
	$(PY) benchmarks/bench_core.py
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/bench_gui.py --sizes 8/32/32,20/32/32,20/64/64,50/256/64 --trainer auto --rounds 5

clean:
	rm -rf $(VENV) .pytest_cache
