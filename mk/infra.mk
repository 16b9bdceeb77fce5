# Infrastructure targets (included by the main Makefile, which defines VENV, PY and venv).

# This fragment is included before the main Makefile's first target: keep its default.
.DEFAULT_GOAL := default

# tests/infra/test_checkov.py runs checkov from .venv-checkov inside `make test`.
TEST_PREREQUISITES += checkov

CHECKOV_VENV ?= .venv-checkov
CHECKOV      ?= $(CHECKOV_VENV)/bin/checkov

.PHONY: bundle checkov checkov-scan infra-fmt

# The Beanstalk source bundle, the Lambda code zip and the Lambda layer, reproducibly, in dist/.
bundle: venv
	$(PY) scripts/bundle.py --out dist

# checkov in its own virtualenv: its dependency pins clash with the app's.
checkov: $(CHECKOV_VENV)/.installed

$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	$(or $(PYTHON),python3) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -qq --disable-pip-version-check -r requirements/checkov.txt
	touch $@

# Scan infra/ (tests/infra/test_checkov.py runs the same scan inside `make test`).
checkov-scan: checkov
	$(CHECKOV) -d infra --quiet --compact --skip-download

# Needs the terraform binary (no provider download).
infra-fmt:
	terraform fmt -check -recursive infra

# Terraform applied to the local emulator and destroyed, alone (make test runs it too).
.PHONY: infra-apply
infra-apply: venv
	$(PY) -m pytest -p no:xdist -s tests/infra/test_apply.py
