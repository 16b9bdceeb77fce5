"""Start and stop the local stack as real processes on loopback: the emulator, the portal and
the local REST API. Used by `make run` (local/run.py) and by end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Dummy credentials and a fixed region: the emulator accepts any, AWS is never called.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(process: subprocess.Popen | None, lines: int = 30) -> str:
    """The end of a quiet process's log, to say why it failed."""
    path = getattr(process, "log_path", None)
    if path is None or not Path(path).exists():
        return ""
    tail = Path(path).read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {path} ---\n" + "\n".join(tail)


def _wait(what: str, ready, timeout: float, process: subprocess.Popen | None) -> None:
    """Wait until `ready()` stops raising OSError, or fail quoting the process's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"{process.args} exited with {process.returncode} before {what} answered{_log_tail(process)}"
            )
        try:
            ready()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{what} did not answer within {timeout} s{_log_tail(process)}")


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Wait until `url` answers (any HTTP status), or fail."""

    def ready():
        try:
            urllib.request.urlopen(url, timeout=2)  # nosec B310 - the stack's own http://127.0.0.1 URLs, never user input
        except urllib.error.HTTPError:
            pass

    _wait(url, ready, timeout, process)


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Wait until a server accepts connections on 127.0.0.1:`port`, or fail. No request is sent,
    so the server logs nothing: the servers listen only once their application is loaded."""

    def ready():
        socket.create_connection(("127.0.0.1", port), timeout=2).close()

    _wait(f"127.0.0.1:{port}", ready, timeout, process)


@dataclass
class LocalStack:
    """The processes of the local stack and the environment they share."""

    state_dir: Path
    emulator_port: int = 4566
    portal_port: int = 8000
    api_port: int = 8001
    quiet: bool = False
    emulator_args: tuple[str, ...] = ()  # e.g. ("--s3-list-bucket", "deny")
    # Keep the emulator's state in state_dir across restarts (`make run`). Test stacks that are
    # never restarted skip it: each save pickles every object, 100 MB images included.
    persist: bool = True
    env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.portal_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        # Quiet processes (tests) write to <state_dir>/<name>.log, quoted when they fail.
        log_path = self.state_dir / f"{name}.log" if self.quiet else None
        output = open(log_path, "ab") if log_path else None  # noqa: SIM115 (closed in stop())
        process = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT if output else None
        )
        process.log_path, process.log_file = log_path, output
        self.processes.append(process)
        return process

    def start_emulator(self) -> None:
        """Start the emulator and create the resources; fills self.env."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            **LOCAL_AWS_ENV,
            "AWS_ENDPOINT_URL": self.emulator_url,
            "DJANGO_SETTINGS_MODULE": "portal.settings.local",
            "DJANGO_DB_PATH": str(self.state_dir / "portal.sqlite3"),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PORTAL_ORIGIN": self.portal_url,  # the bucket's CORS lets it POST presigned uploads
            "PYTHONUNBUFFERED": "1",
            # The local stack opts in to the seed's instant API sign-up (the PreSignUp
            # trigger confirms; no mail); AWS requires the emailed code by default.
            "API_SIGNUP_REQUIRES_CONFIRMATION": os.environ.get("API_SIGNUP_REQUIRES_CONFIRMATION", "false"),
        }
        keep = ("--state", str(self.state_dir / "emulator-state.pickle")) if self.persist else ()
        process = self._spawn(
            "emulator", "-m", "local.emulator", "--port", str(self.emulator_port), *keep, *self.emulator_args,
        )
        wait_for_http(f"{self.emulator_url}/_local/health", process=process)
        # Resources are made by a child so this process's config stays untouched.
        made = subprocess.run(
            [sys.executable, "-m", "local.bootstrap"], cwd=ROOT, env=self.env, capture_output=True, text=True,
        )
        if made.returncode != 0:
            raise RuntimeError(f"creating the local resources failed:\n{made.stderr}")
        out = made.stdout
        for line in out.splitlines():
            name, _, value = line.partition("=")
            if name and value:
                self.env[name] = value

    def start_faces(self) -> None:
        """Migrate the portal's local database, then start the portal and the REST API."""
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )
        portal = self._spawn("portal", "-m", "local.portal", "--noreload", f"127.0.0.1:{self.portal_port}")
        api = self._spawn("api", "-m", "local.gateway", "--port", str(self.api_port))
        wait_for_port(self.portal_port, process=portal)
        wait_for_port(self.api_port, process=api)

    def stop(self) -> None:
        """Stop every process, the emulator last so it saves the final state."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log_file = getattr(process, "log_file", None)  # processes others added have none
            if log_file:
                log_file.close()
        self.processes.clear()
