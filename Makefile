# One-Map: the two commands (see README).
#   make run    install what is needed, start the embedded PostGIS, load the samples, serve
#   make test   install what the tests need and run them
.PHONY: run test test-clients setup setup-test setup-clients lint bench lock

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

# Desktop clients against the API (QGIS 3.22 through PyQGIS under xvfb; GDAL and OWSLib):
# installs Debian's qgis, python3-qgis and xvfb first (minutes), so it is not part of `test`.
# docs/clients.md records a run.
setup-clients: setup-test
	bash scripts/setup.sh clients

test-clients: setup-clients
	ONEMAP_TEST_CLIENTS=1 GIS_LOG_LEVEL=WARNING $(VENV)/python -m pytest -v -s -p no:cacheprovider \
	  tests/clients tests/ogc/test_clients.py

lint: setup-test
	$(VENV)/ruff check .

# Re-resolve requirements/*.lock.txt from pyproject.toml (a deliberate commit; see scripts/lock.sh).
# `make lock ARGS=--upgrade` moves every package to its newest allowed release.
lock: setup-test
	bash scripts/lock.sh $(ARGS)

bench: setup-test
	$(VENV)/python benchmarks/bench_import.py
