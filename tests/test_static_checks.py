"""Static checks inside `make test`: bandit over the code finds no medium or high issue that
is not explained (every `# nosec` names its test and says why), and `make audit`
(scripts/audit.py) says plainly when pip-audit's advisory source cannot be reached."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("accounts", "common", "images", "local", "portal", "scripts", "manage.py")
NOSEC = re.compile(r"#\s*nosec\b(.*)$")
EXPLAINED = re.compile(r"^\s+(B\d{3})(,\s*B\d{3})*\s+-\s+\S.{15,}")


def test_bandit_finds_no_medium_or_high_issue():
    run = subprocess.run(
        [sys.executable, "-m", "bandit", "--quiet", "--recursive", *CODE, "--exclude", "*/tests/*",
         "--severity-level", "medium", "--format", "json"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    report = json.loads(run.stdout)
    found = [f"{r['filename']}:{r['line_number']}: {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert found == [] and run.returncode == 0, "\n".join(found) or run.stderr
    assert report["errors"] == []
    assert report["metrics"]["_totals"]["loc"] > 3000  # it did read the code


def test_every_nosec_names_its_check_and_says_why():
    seen = 0
    for top in CODE:
        for path in sorted((ROOT / top).rglob("*.py")) if (ROOT / top).is_dir() else [ROOT / top]:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found = NOSEC.search(line)
                if found:
                    seen += 1
                    assert EXPLAINED.match(found.group(1)), f"{path.relative_to(ROOT)}:{number}: # nosec BXXX - why"
    assert seen >= 2


def _audit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "audit.py"), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_audit_says_plainly_when_its_advisory_source_cannot_be_reached():
    closed = "http://127.0.0.1:9/"  # discard port: nothing answers
    run = _audit("--probe", f"pypi={closed}", "--probe", f"osv={closed}", "--pip-audit", "false")
    assert run.returncode == 3
    assert "NOT AUDITED" in run.stderr and "cannot be reached" in run.stderr


def test_audit_runs_pip_audit_over_every_pinned_file_where_the_source_answers():
    class Advisories(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"info": {}, "vulnerabilities": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Advisories)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = _audit("--probe", f"pypi=http://127.0.0.1:{server.server_address[1]}/pypi/pip/23.2.1/json",
                     "--pip-audit", "echo")
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    assert "--service pypi --no-deps --disable-pip" in run.stdout
    for name in ("base.txt", "dev.txt", "lambda.txt", "checkov.txt"):
        assert f"requirements/{name}" in run.stdout
