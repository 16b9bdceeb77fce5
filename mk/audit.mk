# `make audit`: pip-audit over the pinned requirements (scripts/audit.py says plainly when its
# advisory source cannot be reached). pip-audit in its own virtualenv, like checkov.
.DEFAULT_GOAL := default

AUDIT_VENV ?= .venv-audit

.PHONY: audit

audit: $(AUDIT_VENV)/.installed
	$(AUDIT_VENV)/bin/python scripts/audit.py --pip-audit $(AUDIT_VENV)/bin/pip-audit

$(AUDIT_VENV)/.installed: requirements/audit.txt
	$(or $(PYTHON),python3) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install -qq --disable-pip-version-check -r requirements/audit.txt
	touch $@
