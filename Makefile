# Two set-up commands: `make run` and `make test`. Both create .venv on first use;
# `make app` serves the studio on localhost:8501 the same way.

# .venv's interpreter: the system's /usr/bin/python3 where it is 3.11 or newer and can
# make a venv (Debian's is an optimised build: the engine runs 12-13 % faster on it than
# on an unoptimised build such as pyenv's default), else python3 on PATH.
# PYTHON=... chooses another; `make clean` first to rebuild an existing .venv with it.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip, venv; \
	sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $(SYSTEM_PYTHON) || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MODEL  ?= models/default.yaml

.PHONY: run app test docs figures bench fuzz lint clean compiled

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The engine's modules compiled by Cython (sim/compiled): about 15 % less CPU per request.
# Builds only what is missing for the sources on disk; a machine without a C compiler is
# told so, and runs the engine from its source.
compiled: $(STAMP)
	$(BIN)/python -m sim.compiled

run: compiled
	$(BIN)/queuefull run $(MODEL) --plot --html

app: compiled
	$(BIN)/streamlit run app.py --server.port 8501 --server.address localhost \
		--server.headless true --browser.gatherUsageStats false

test: compiled
	$(BIN)/python -m pytest -n 2 -q

docs: $(STAMP)
	$(BIN)/python -m sim.reference docs/reference
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

figures: compiled
	$(BIN)/python tools/figures.py

# Ciw, the peer the engine is compared with, goes into out/bench-deps: it ships a
# top-level "tests" package that would shadow ours in the project's environment.
bench: compiled
	rm -f out/bench.jsonl
	test -d out/bench-deps/ciw || $(BIN)/pip install --quiet --target out/bench-deps --no-deps ciw networkx
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_controls.py
	$(BIN)/python benchmarks/bench_memory.py
	$(BIN)/python benchmarks/bench_parallel.py
	$(BIN)/python benchmarks/bench_coverage.py --seeds 600
	$(BIN)/python benchmarks/bench_studio.py
	$(BIN)/python benchmarks/bench_estimate.py
	$(BIN)/python benchmarks/bench_instructions.py
	$(BIN)/python benchmarks/targets.py

fuzz: compiled
	QUEUEFULL_HYPOTHESIS=explore QUEUEFULL_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest -q -p no:xdist tests/studies/test_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy sim/__init__.py sim/compiled sim/model sim/policies sim/measure sim/studies sim/studio sim/diagnose sim/report sim/calibrate sim/estimate sim/reference.py

clean:
	rm -rf $(VENV) out site .pytest_cache sim/__compiled__
