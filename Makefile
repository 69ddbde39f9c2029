# `make run`  brings up a working Seesaw and shows it.
# `make test` runs the whole suite.
# Both set themselves up (venv, system packages) on a fresh machine.

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp

.PHONY: all venv system-deps test unit integration lint run protos clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	scripts/system-deps

test: venv system-deps
	scripts/run-tests

unit: venv
	scripts/run-tests unit

integration: venv system-deps
	scripts/run-tests integration

lint: venv
	$(VENV)/bin/ruff check seesaw tests bench scripts
	$(VENV)/bin/ruff format --check seesaw tests bench scripts

run: venv system-deps
	$(PY) -m seesaw.lab.demo

protos: venv
	$(PY) scripts/gen_protos.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
