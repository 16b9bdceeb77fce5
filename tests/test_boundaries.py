"""The Lambda package is the Django-free core plus the handlers (images/api/, accounts/api.py,
and maintenance.py of the scheduled sweep): none of it may import Django, directly or through anything it imports."""

import subprocess
import sys

import pytest

from local.stack import ROOT

LAMBDA_ENTRY_POINTS = ["images.api.images", "images.api.trash", "accounts.api", "images.maintenance"]


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


PROJECT_PACKAGES = ["accounts", "common", "images", "local", "portal", "scripts"]


def _private_imports():
    """Yield every `from X import _name` in the project's own code (dunders aside)."""
    import ast
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ImportFrom):
                    for alias in node.names:
                        if alias.name.startswith("_") and not alias.name.startswith("__"):
                            yield f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}"


def test_no_private_name_is_imported_across_modules():
    assert list(_private_imports()) == []


def test_the_private_import_check_sees_one(tmp_path, monkeypatch):
    import tests.test_boundaries as me
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("from pkg.b import _helper, __version__\n")
    monkeypatch.setattr(me, "ROOT", tmp_path)
    monkeypatch.setattr(me, "PROJECT_PACKAGES", ["pkg"])
    assert list(me._private_imports()) == ["pkg/a.py:1 pkg.b._helper"]
