"""Every portal page carries the Content-Security-Policy (django-csp), and no template has an
inline script, style or event handler that the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from common.config import get_config

ROOT = Path(__file__).resolve().parent.parent
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\son[a-z]+\s*=|\sstyle\s*=|(?:href|src|action)\s*=\s*[\"']?\s*javascript:",
                    re.I)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password_reset/", "/nowhere/"])
def test_pages_carry_the_policy(client, aws, path):
    policy = client.get(path)["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if " " in d.strip())
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == directives["style-src"] == "'self'"
    assert directives["img-src"].split() == ["'self'", get_config().images_base_url + "/", "blob:"]
    assert directives["frame-ancestors"] == "'none'" and directives["form-action"] == "'self'"


def test_no_template_has_inline_script_or_style():
    templates = [p for top in ("portal", "accounts", "images") for p in (ROOT / top).rglob("templates/**/*.html")]
    assert len(templates) > 10
    offending = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in templates for m in INLINE.finditer(p.read_text())]
    assert not offending, offending
