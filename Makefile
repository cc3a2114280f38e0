# coding-agent-db: every target works on a fresh clone (it creates .venv first).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint fix-sql migrate adopt rotate-keys bench bench-adopt sql-review clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# pip's own progress shows while .venv is set up (~30 s on a fresh clone).
$(INSTALLED): pyproject.toml
	@echo "== creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "== upgrading pip"
	$(BIN)/python -m pip install --upgrade --progress-bar on pip
	@echo "== installing coding-agent-db (editable) with its dev tools"
	$(BIN)/python -m pip install --progress-bar on -e '.[dev]'
	@echo "== $(VENV) is ready"
	touch $@

venv: $(INSTALLED) ## Create .venv with the package and its dev tools

demo: $(INSTALLED) ## Walk the platform's workflows (embedded PostgreSQL in ./.pgdata unless POSTGRES_URL is set)
	$(BIN)/python -m coding_agent_db.demo

test: $(INSTALLED) ## Run the tests (TEST_POSTGRES_URL picks a server; unset, an embedded one)
	$(BIN)/python -m pytest

lint: $(INSTALLED) ## ruff, mypy --strict, squawk on migrations/, sqlfluff on queries/ and dev/sql/
	$(BIN)/ruff check src tests bench dev
	$(BIN)/ruff format --check src tests bench dev
	$(BIN)/mypy
	$(BIN)/python -m dev.lint_migrations
	$(BIN)/sqlfluff lint queries dev/sql

fix-sql: $(INSTALLED) ## Reformat queries/ and dev/sql/ to the house style (sqlfluff fix)
	$(BIN)/sqlfluff fix queries dev/sql

migrate: $(INSTALLED) ## Apply pending migrations to $POSTGRES_URL
	$(BIN)/coding-agent-db migrate

adopt: $(INSTALLED) ## Adopt the TypeScript app's database at $POSTGRES_URL, then apply newer migrations (DRY_RUN=1: plan only)
	$(BIN)/coding-agent-db adopt $(if $(DRY_RUN),--dry-run)

rotate-keys: $(INSTALLED) ## Re-encrypt every secret under $ENCRYPTION_KEY
	$(BIN)/coding-agent-db rotate-keys

bench: $(INSTALLED) ## shared/WORKLOAD.md against this layer and raw asyncpg, the scaling table, push
	$(BIN)/python -m bench.workload
	$(BIN)/python -m bench.scaling
	$(BIN)/python -m bench.push

sql-review: $(INSTALLED) ## Plan every query at scale (1k users, 1M tasks) into sql-review.md; fails on unexcused flags
	$(BIN)/python -m dev.sql_review --output sql-review.md

bench-adopt: $(INSTALLED) ## Adopt a 100k-task app database while the app writes; rows/s and lock times
	$(BIN)/python -m bench.adopt

clean: ## Remove .venv, caches and ./.pgdata
	rm -rf $(VENV) .pgdata .mypy_cache .ruff_cache .pytest_cache sql-review.md
