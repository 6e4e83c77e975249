# The two commands of the README: `make run` and `make test`. Both work from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint setup

EXAMPLE_VENDOR := examples/meters-vendor-taxameter

$(BIN)/meters-integration-api: pyproject.toml $(EXAMPLE_VENDOR)/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	# The example third-party vendor, installed next to the gateway as an integrator would.
	$(BIN)/pip install --quiet -e $(EXAMPLE_VENDOR)
	touch $@

setup: $(BIN)/meters-integration-api

run: setup
	$(BIN)/meters-integration-api sandbox --config config/meters.toml

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd $(EXAMPLE_VENDOR) && MYPYPATH=$(CURDIR) $(CURDIR)/$(BIN)/mypy

test: setup lint
	scripts/ensure-redis-server.sh
	scripts/ensure-promtool.sh
	$(BIN)/python -m pytest

# Mutation testing (docs/testing.md): mutmut 3 on the decision modules, with the in-process tests
# that exercise them ([tool.mutmut] in pyproject.toml); tens of minutes, not part of `make test`.
# A fresh run each time (rm -rf mutants), so the score is that of the code and tests checked out.
.PHONY: mutate
mutate: setup
	$(BIN)/pip install --quiet -e '.[mutate]'
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_score.py

# Benchmarks (bench/, docs/benchmarks.md): a few minutes on loopback; not part of the tests.
.PHONY: bench
bench: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench --profile
