# The two commands of the README: `make demo` (the main job on SQLite) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := demo

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Ingest archivist's own sample WARCs into an SQLite catalog (labels come with the ingest), ask
# it questions, then export the human-era dataset and re-check every row against its WARC file.
demo: $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN)/archivist samples $(DEMO)/warcs
	$(BIN)/archivist --db $(DEMO)/archive.db ingest $(DEMO)/warcs
	$(BIN)/archivist --db $(DEMO)/archive.db lookup http://news.example.org/2019/05/river-festival.html
	$(BIN)/archivist --db $(DEMO)/archive.db stats
	$(BIN)/archivist --db $(DEMO)/archive.db export $(DEMO)/export
	$(BIN)/archivist --db $(DEMO)/archive.db verify-export --deep $(DEMO)/export

test: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/python -m pytest -q

lint: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Archivist against the reference floors (FastWARC, warcio, cdxj-indexer) and its targets, in
# one run; prints one table and writes it into docs/benchmarks.md. Inputs are cached in
# bench/.work/. A quick look: make bench BENCH_ARGS="--quick --no-write".
bench: $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(DEMO) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
