# Two commands do all the set-up on a fresh machine (Python 3.11+, Java 17, Maven):
#   make run   local Neo4j, demo county, API on http://127.0.0.1:8000/graphql
#   make test  the whole suite against a real Neo4j of its own (port 7688)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
JARS := graph/neo4j/target/.built-from
DEMO_VILLAGES ?= 12
DEMO_SEED ?= 20260615

.PHONY: install jars run db-start db-stop demo serve test lint typecheck pytest schema bench clean

install: $(INSTALLED) $(JARS)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(JARS): $(INSTALLED) graph/neo4j/pom.xml $(shell find graph/neo4j/src -name '*.java')
	@command -v java >/dev/null || { echo "Java 17 is required for the local Neo4j"; exit 1; }
	@command -v mvn >/dev/null || { echo "Maven is required to fetch Neo4j's jars"; exit 1; }
	$(BIN)/python -c 'from graph import localdb; localdb.build(quiet=False)'

jars: $(JARS)

db-start: install
	$(BIN)/shouhu db start
	$(BIN)/shouhu db migrate

db-stop:
	$(BIN)/shouhu db stop

demo: db-start
	$(BIN)/shouhu demo --villages $(DEMO_VILLAGES) --seed $(DEMO_SEED)

run: demo
	@echo "GraphQL on http://127.0.0.1:8000/graphql  (a token: $(BIN)/shouhu token --role coordinator --region 360732000000)"
	$(BIN)/shouhu serve

serve: install
	$(BIN)/shouhu serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

test: lint typecheck pytest

schema: install
	$(BIN)/shouhu schema

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf .shouhu/test-neo4j-* bench/out
