# `make load`: a bounded load test (included by the main Makefile, which defines VENV, PY and venv).

.PHONY: load

LOAD_VENV ?= .venv-load
LOAD_USERS ?= 20
LOAD_SECONDS ?= 60

# locust in its own virtualenv: its dependency pins clash with the app's.
$(LOAD_VENV)/.installed: requirements/load.txt
	$(or $(PYTHON),python3) -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install -qq --disable-pip-version-check -r requirements/load.txt
	touch $@

# Two gunicorn portals and the local REST API on one emulator, loopback only; prints req/s,
# p50/p95/p99 and errors per route (scripts/load_test.py).
load: venv $(LOAD_VENV)/.installed
	$(PY) scripts/load_test.py --users $(LOAD_USERS) --seconds $(LOAD_SECONDS) --locust $(LOAD_VENV)/bin/locust
