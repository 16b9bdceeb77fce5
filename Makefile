# The two commands: `make run` and `make test`. Everything else is set-up they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Fragments (e.g. mk/infra.mk) may add to TEST_PREREQUISITES.
-include mk/*.mk

default: run

.PHONY: default run test venv browser clean

# Create the virtualenv and install the pinned dependencies (again when they change).
$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(PY) -m local.run

# Debian's Chromium for the browser tests (browser downloads do not work here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: venv browser $(TEST_PREREQUISITES)
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .local test-artifacts dist

