# One-Map: the two commands (see README).
#   make run    install what is needed, start the embedded PostGIS, load the samples, serve
#   make test   install what the tests need and run them
.PHONY: run test setup setup-test lint bench lock

VENV := .venv/bin

setup:
	bash scripts/setup.sh run

setup-test:
	bash scripts/setup.sh test

run: setup
	$(VENV)/gis db up
	$(VENV)/gis samples load
	$(VENV)/gis serve

test: setup-test
	$(VENV)/python -m pytest -q

lint: setup-test
	$(VENV)/ruff check .

# Re-resolve requirements/*.lock.txt from pyproject.toml (a deliberate commit; see scripts/lock.sh).
# `make lock ARGS=--upgrade` moves every package to its newest allowed release.
lock: setup-test
	bash scripts/lock.sh $(ARGS)

bench: setup-test
	$(VENV)/python benchmarks/bench_import.py
