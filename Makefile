# `make demo` and `make test` each build the local virtualenv from nothing on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PIP) install -e '.[test]'
	touch $@

demo: $(VENV)/.base
	$(PY) -m nnlab demo

test: $(VENV)/.test
	# One BLAS thread per test worker: two workers already fill both cores, and threaded
	# small GEMMs on oversubscribed cores are many times slower.
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadfile

lint: $(VENV)/.test
	$(PY) -m ruff check src tests benchmarks examples

bench: $(VENV)/.test
	$(PY) benchmarks/bench_mlp.py

clean:
	rm -rf $(VENV) .pytest_cache build src/*.egg-info
