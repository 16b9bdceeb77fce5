"""Where a request's time goes on the local stack: the emulator's own work and its queue, apart
from the code's. The emulator says on each answer how long it worked on it and how long the
request waited for its lock (`Server-Timing: emulator;dur=…, queue;dur=…`, milliseconds);
install() has botocore add those up for the request being handled (per thread), and the local
gateway and the local portal answer with the sums: `Server-Timing: emulator;dur=…,
queue;dur=…, aws;dur=… (the AWS calls' round trips, both included), app;dur=… (the whole
request)`. `make load` reads them per route (scripts/locustfile.py). Local only: AWS answers
carry no such header, and production neither installs this nor sends the sums."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

EMULATOR_PARTS = ("emulator", "queue")
_ENTRY = re.compile(r"\s*([A-Za-z0-9_-]+)\s*;\s*dur=([0-9.]+)")
_current = threading.local()
_installed = threading.Lock()


def emulator_header(served: float, waited: float) -> str:
    """The emulator's Server-Timing for one answer (seconds in)."""
    return f"emulator;dur={served * 1000:.1f}, queue;dur={waited * 1000:.1f}"


def parse(header: str) -> dict[str, float]:
    """A Server-Timing header's durations, in milliseconds, by name."""
    return {m.group(1): float(m.group(2)) for part in header.split(",") if (m := _ENTRY.match(part))}


def install() -> None:
    """Make every botocore HTTP call add its round trip and the emulator's figures to the
    current request's totals (when one is being measured). Idempotent."""
    # Imported here: `make load`'s locust (its own virtualenv, no botocore) uses parse() alone.
    from botocore.httpsession import URLLib3Session

    with _installed:
        if getattr(URLLib3Session.send, "measured", False):
            return
        original = URLLib3Session.send

        def send(self, request):
            started = time.perf_counter()
            response = original(self, request)
            totals = getattr(_current, "totals", None)
            if totals is not None:
                totals["aws"] += (time.perf_counter() - started) * 1000
                for name, ms in parse(response.headers.get("Server-Timing", "")).items():
                    if name in EMULATOR_PARTS:
                        totals[name] += ms
            return response

        send.measured = True
        URLLib3Session.send = send


@contextmanager
def measured() -> Iterator[Counter]:
    """Add up the AWS calls made in this thread until the block ends; "app" is the block's time."""
    totals: Counter = Counter()
    _current.totals = totals
    started = time.perf_counter()
    try:
        yield totals
    finally:
        totals["app"] = (time.perf_counter() - started) * 1000
        _current.totals = None


def header(totals: Counter) -> str:
    """A request's Server-Timing: the emulator's work, its queue, the AWS round trips, the whole."""
    return ", ".join(f"{name};dur={totals[name]:.1f}" for name in (*EMULATOR_PARTS, "aws", "app"))


class ServerTimingMiddleware:
    """The local portal's Server-Timing (settings.local): what its AWS calls cost in the emulator."""

    def __init__(self, get_response):
        install()
        self.get_response = get_response

    def __call__(self, request):
        with measured() as totals:
            response = self.get_response(request)
        response["Server-Timing"] = header(totals)
        return response
