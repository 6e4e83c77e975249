# The two commands of the README: `make run` and `make test`. Both work from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint setup lock test-latest

EXAMPLE_VENDOR := examples/meters-vendor-taxameter
LOCK := requirements.lock

# The venv holds exactly the lock (README "Versions"): every package pinned and its file hashed,
# pip and the build backend included, so a fresh clone installs what CI tested. Then the gateway
# and the example third-party vendor themselves, editable, over it and adding nothing.
# Each step says what it does first: the lock's install takes a minute or more on a fresh clone.
$(BIN)/meters-integration-api: pyproject.toml $(LOCK) $(EXAMPLE_VENDOR)/pyproject.toml
	@echo "setup: creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "setup: installing the $$(grep -c '^[a-z0-9]' $(LOCK)) packages pinned in $(LOCK)"
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	@echo "setup: installing the gateway and the example vendor (editable)"
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . -e $(EXAMPLE_VENDOR)
	$(BIN)/pip check
	touch $@
	@echo "setup: done"

setup: $(BIN)/meters-integration-api

run: setup
	$(BIN)/meters-integration-api sandbox --config config/meters.toml

# The tour's second half (README): scripted rides, each step with what the gateway did.
.PHONY: demo
demo: setup
	$(BIN)/meters-integration-api demo

lint: setup
	$(MAKE) --no-print-directory lint-venv

# The linters of whichever venv BIN names (test-latest passes its throwaway one).
.PHONY: lint-venv
lint-venv:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd $(EXAMPLE_VENDOR) && MYPYPATH=$(CURDIR) $(abspath $(BIN))/mypy

test: setup lint
	scripts/ensure-redis-server.sh
	scripts/ensure-promtool.sh
	$(BIN)/python -m pytest

# Mutation testing (docs/testing.md): mutmut 3 on the decision modules, with the in-process tests
# that exercise them ([tool.mutmut] in pyproject.toml); tens of minutes, not part of `make test`.
# A fresh run each time (rm -rf mutants), so the score is that of the code and tests checked out.
.PHONY: mutate
mutate: setup
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_score.py

# The money-invariant search (docs/testing.md "The simulation"): SIMULATION_SCHEDULES fault
# schedules, searched anew each run (make test replays a fixed few hundred).
SIMULATION_SCHEDULES ?= 10000
SIMULATION_PARTS ?= 4
.PHONY: simulate
simulate: setup
	scripts/simulate.sh $(BIN) $(SIMULATION_SCHEDULES) $(SIMULATION_PARTS)

# The on-call rehearsal (docs/operations.md "Rehearsed on a real Prometheus"): four incidents on
# loopback productions watched by a real Prometheus; about 14 minutes, not part of `make test`.
.PHONY: rehearse
rehearse: setup
	scripts/ensure-redis-server.sh
	scripts/ensure-promtool.sh
	scripts/rehearse.sh $(BIN)

# Benchmarks (bench/, docs/benchmarks.md): a few minutes on loopback; not part of the tests.
.PHONY: bench
bench: setup
	$(BIN)/python -m bench --profile

# Refresh the lock to the newest releases pyproject.toml's ranges allow ([tool.pip-tools] holds
# the options); then `make test` installs and tests it. Commit both files together.
lock: setup
	$(BIN)/pip-compile --upgrade --quiet pyproject.toml

# The same checks on the newest releases the ranges allow, in a throwaway venv, naming every
# package that differs from the lock (docs/testing.md "The latest-releases check").
test-latest:
	scripts/ensure-redis-server.sh
	scripts/ensure-promtool.sh
	scripts/test-latest.sh $(PYTHON) $(LOCK) $(EXAMPLE_VENDOR)
