# The two commands: `make run` and `make test`. Everything else is set-up they need.
# The Python the Lambdas and the Beanstalk platform run (infra/variables.tf): the tests run on
# it too. Found on PATH or among pyenv's versions; PYTHON=/path/to/python3.12 overrides.
DEPLOYED_PYTHON := 3.12
ifeq ($(origin PYTHON), undefined)
PYTHON := $(shell for p in python$(DEPLOYED_PYTHON) $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(DEPLOYED_PYTHON).*/bin/python$(DEPLOYED_PYTHON)) /usr/local/bin/python$(DEPLOYED_PYTHON); do $$p -c '' 2>/dev/null && { echo $$p; break; }; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(DEPLOYED_PYTHON)

# Fragments (e.g. mk/infra.mk) may add to TEST_PREREQUISITES.
-include mk/*.mk

default: run

.PHONY: default run test venv browser clean

# Create the virtualenv and install the pinned dependencies (again when they change).
$(STAMP): requirements/base.txt requirements/dev.txt
	@test -n "$(PYTHON)" || { echo "make: Python $(DEPLOYED_PYTHON), the deployed runtime, is needed (not on PATH nor in pyenv): install it or pass PYTHON=/path/to/python$(DEPLOYED_PYTHON)"; exit 1; }
	test "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = $(DEPLOYED_PYTHON) || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install -qq -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(PY) -m local.run

# Debian's Chromium for the browser tests (browser downloads do not work here).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# Both cores (pytest-xdist), a test file per worker at a time: each worker starts its own local
# stack and browser when a test needs one. PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= 2

test: venv browser $(TEST_PREREQUISITES)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .local test-artifacts dist

