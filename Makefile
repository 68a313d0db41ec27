# lyncpki — two commands on a fresh machine:  make demo   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench reliability clean constraints bytecode

# Create the virtualenv when missing and install lyncpki with its test extras, at the versions
# of constraints.txt (the ones the tests last passed with).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

# Newest versions within pyproject.toml's ranges, in a throw-away virtualenv, written to
# constraints.txt; then run make test before committing it.
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/python -m pip install --quiet --upgrade pip
	.venv-constraints/bin/python -m pip install --quiet -e '.[test]'
	{ sed -n '/^#/p' constraints.txt; .venv-constraints/bin/python -m pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints

# The main job on the embedded example: plan, CA, every certificate issued and assigned, checked
# and proved by mutual TLS; a second `make demo` changes nothing. demo-data/report.html shows it.
demo: bytecode
	$(BIN)/lyncpki deploy examples/contoso.yaml --home demo-data

# lyncpki's own modules compiled once: the editable install leaves them as source, and with
# PYTHONDONTWRITEBYTECODE set (as on these machines) every `lyncpki` process compiled all of
# them again before it started (0.1-0.2 s each; the tests start about a thousand).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q src

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Every suite but the reliability one runs on two workers, each test file kept on one (module
# fixtures stay shared); the reliability suite, which prints its table (and loads the machine
# on purpose), in one process after them.
unit: bytecode
	$(BIN)/python -m pytest -n 2 --dist loadfile tests --ignore=tests/reliability
	$(BIN)/python -m pytest tests/reliability

test: lint typecheck unit

# The long form of tests/reliability: 100,000 fuzzed inputs, a minute of load on SQLite and on
# PostgreSQL, 200 kills; prints the table (also in test-output/reliability.json).
reliability: bytecode
	LYNCPKI_RELIABILITY=long $(BIN)/python -m pytest tests/reliability -p no:cacheprovider -q

bench: bytecode
	$(BIN)/python bench/plan.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-output demo-data
