# One-Map: the two commands (see README).
#   make run    install what is needed, start the embedded PostGIS, load the samples, serve
#   make test   install what the tests need and run them
.PHONY: run test test-clients test-fuzz setup setup-test setup-clients lint bench lock docs

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

# The reference site in build/site (README, guides, the analyst library's API reference, the
# notebooks executed against the database of the settings: start it first, e.g. `make run`).
# tests/test_notebooks.py builds it too, from the notebooks it has just run.
docs: setup-test
	$(VENV)/python scripts/build_docs.py

# The deeper fuzz run (issue 21): schemathesis over every operation with 60 examples each,
# positive and negative, on a database of its own (the suite runs 10); docs/reliability.md.
test-fuzz: setup-test
	GIS_FUZZ_EXAMPLES=60 GIS_LOG_LEVEL=WARNING $(VENV)/python -m pytest -v -s -p no:cacheprovider \
	  tests/test_fuzz_api.py tests/test_fuzz_models.py

lint: setup-test
	$(VENV)/ruff check .

# Re-resolve requirements/*.lock.txt from pyproject.toml (a deliberate commit; see scripts/lock.sh).
# `make lock ARGS=--upgrade` moves every package to its newest allowed release.
lock: setup-test
	bash scripts/lock.sh $(ARGS)

bench: setup-test
	$(VENV)/python benchmarks/bench_import.py
