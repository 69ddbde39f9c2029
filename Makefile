# `make run`  brings up a working Seesaw and shows it.
# `make test` runs the whole suite.
# Both set themselves up (venv, system packages) on a fresh machine.

VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp

.PHONY: all venv system-deps test unit integration lint run install protos clean

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

# The two-node lab (seesaw lab up), its status and a traffic summary; it stays up (`seesaw lab down`).
run: export SEESAW_MAKE_STARTED := $(shell date +%s.%N)
run: venv system-deps
	$(PY) -m seesaw.lab.demo

# Install for systemd: the package in its own venv ($(SEESAW_HOME)), its commands linked into $(PREFIX)/bin,
# the example config into $(SYSCONFDIR)/seesaw (files already there are kept) and the unit into $(UNITDIR).
# The wheel is built offline with this checkout's venv; pip fetches its dependencies (PIP_FLAGS adds flags).
install: SEESAW_HOME ?= /opt/seesaw
install: PREFIX ?= /usr/local
install: SYSCONFDIR ?= /etc
install: UNITDIR ?= /etc/systemd/system
install: venv
	@set -e; wheels=$$(mktemp -d); trap 'rm -rf "$$wheels"' EXIT; \
	$(PY) -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$$wheels" . ; \
	[ -x "$(SEESAW_HOME)/bin/python" ] || $(PYTHON) -m venv --without-pip "$(SEESAW_HOME)"; \
	$(PY) -m pip --python "$(SEESAW_HOME)/bin/python" install -q --force-reinstall $(PIP_FLAGS) "$$wheels"/seesaw-*.whl; \
	install -d "$(PREFIX)/bin" "$(SYSCONFDIR)/seesaw" "$(UNITDIR)"; \
	for cmd in "$(SEESAW_HOME)"/bin/seesaw*; do ln -sfn "$$cmd" "$(PREFIX)/bin/"; done; \
	for f in etc/seesaw/*; do \
	  [ -e "$(SYSCONFDIR)/seesaw/$${f##*/}" ] || install -m 644 "$$f" "$(SYSCONFDIR)/seesaw/"; \
	done; \
	sed -e 's|/usr/local/bin/seesaw-watchdog|$(PREFIX)/bin/seesaw-watchdog|' \
	    -e 's|--config-dir /etc/seesaw|--config-dir $(SYSCONFDIR)/seesaw|' \
	    systemd/seesaw.service > "$(UNITDIR)/seesaw.service"; \
	chmod 644 "$(UNITDIR)/seesaw.service"; \
	echo "Installed seesaw in $(SEESAW_HOME), commands in $(PREFIX)/bin, config in $(SYSCONFDIR)/seesaw,"; \
	echo "unit $(UNITDIR)/seesaw.service. Next: edit $(SYSCONFDIR)/seesaw/seesaw.cfg and cluster.pb,"; \
	echo "check them with 'seesaw config check' and 'seesaw doctor', then: systemctl daemon-reload && systemctl enable --now seesaw"

protos: venv
	$(PY) scripts/gen_protos.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
