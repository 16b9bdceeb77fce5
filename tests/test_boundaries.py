"""The Lambda package is the Django-free core plus the handlers (api.py, and maintenance.py of
the scheduled sweep): none of it may import Django, directly or through anything it imports."""

import subprocess
import sys

import pytest

from local.stack import ROOT

LAMBDA_ENTRY_POINTS = ["images.api", "accounts.api", "images.maintenance"]


@pytest.mark.parametrize("module", LAMBDA_ENTRY_POINTS)
def test_handlers_do_not_import_django(module):
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
