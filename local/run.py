"""`make run`: start the local stack, print where it is, stop it all on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from local.stack import ROOT, LocalStack


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        # As the servers do: a port whose old connections linger in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


ENV_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION",
             "AWS_ENDPOINT_URL", "COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "DJANGO_SETTINGS_MODULE",
             "DJANGO_DB_PATH")


def write_env_file(stack: LocalStack) -> None:
    """Leave the stack's settings in .local/env, so other commands can reach it:
    set -a; . .local/env; set +a; .venv/bin/python manage.py sweep_images"""
    lines = [f"{name}={stack.env[name]}" for name in ENV_NAMES if name in stack.env]
    (stack.state_dir / "env").write_text("\n".join(lines) + "\n")


def main() -> None:
    stack = LocalStack(
        state_dir=Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".local"),  # tests use their own
        emulator_port=int(os.environ.get("EMULATOR_PORT", 4566)),
        portal_port=int(os.environ.get("PORTAL_PORT", 8000)),
        api_port=int(os.environ.get("API_PORT", 8001)),
    )
    busy = [
        f"{port} ({name})"
        for name, port in (("EMULATOR_PORT", stack.emulator_port), ("PORTAL_PORT", stack.portal_port),
                           ("API_PORT", stack.api_port))
        if port_in_use(port)
    ]
    if busy:
        what = f"Port {busy[0]} is" if len(busy) == 1 else f"Ports {', '.join(busy)} are"
        sys.exit(f"{what} in use: stop what holds them (an earlier `make run`?) or choose other "
                 "ports with the variables named, e.g. PORTAL_PORT=8100 make run")
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        stack.start_emulator()
        write_env_file(stack)
        demo = subprocess.run(
            [sys.executable, "-m", "local.demo"], cwd=ROOT, env=stack.env, check=True,
            capture_output=True, text=True,
        ).stdout
        stack.start_faces()
        print(
            "\nImage Manager is running:\n"
            f"  portal    {stack.portal_url}/\n"
            f"  REST API  {stack.api_url}/  (routes at the root, e.g. GET {stack.api_url}/images)\n"
            f"  emulator  {stack.emulator_url}/  (local AWS; mail it would send: {stack.emulator_url}/_local/mailbox)\n"
            f"{demo}"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while not stopping and all(p.poll() is None for p in stack.processes):
            time.sleep(0.5)
    finally:
        print("\nStopping...", flush=True)
        stack.stop()
        print("Stopped; the local state is kept in .local/ for the next start.", flush=True)


if __name__ == "__main__":
    main()
