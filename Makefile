# Switchyard's task runner: the few commands everyone uses (see README.md).
# Every target installs what it needs first (scripts/install).

UV := scripts/uv
PY_DIRS := $(wildcard src tests bench)

.PHONY: help install up test lint format bench replay-record

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

install: ## install uv, the locked Python dependencies (and later UI/system deps)
	@scripts/install

up: install ## start Switchyard with embedded defaults (make up ARGS="--port 9000")
	$(UV) run switchyard up $(ARGS)

test: install ## the whole suite: ruff check, then pytest
	$(UV) run ruff check $(PY_DIRS)
	$(UV) run pytest

lint: install ## ruff check and ruff format --check
	$(UV) run ruff check $(PY_DIRS)
	$(UV) run ruff format --check $(PY_DIRS)

format: install ## apply ruff fixes and formatting
	$(UV) run ruff check --fix $(PY_DIRS)
	$(UV) run ruff format $(PY_DIRS)

bench: install ## run every bench/*.py (each prints ratios against its baseline)
	@set -e; for f in $(wildcard bench/*.py); do echo "== $$f"; $(UV) run python "$$f"; done

replay-record: install ## re-record the replay corpus (tests/replay/histories/)
	$(UV) run pytest tests/engine -m "temporal and not slow and not no_record" --record-histories -q
