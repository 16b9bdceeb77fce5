"""`make load`: a bounded load test of both faces on one local emulator, loopback only.

Starts the emulator (fresh state in a temporary folder), two gunicorn portal instances
(each with its own SQLite file, no sticky sessions) and the local REST API; makes a user and
--images images; times each route alone (--alone requests each, one at a time, before any
load); then runs locust headless (scripts/locustfile.py) with --users users for --seconds
seconds and prints requests per second, p50/p95/p99 and errors per route, and where each
route's time went: the emulator's own work on its AWS calls, their wait for the emulator's one
lock, the code's own time (the server's time outside AWS calls) and the wait for a free server
thread (local/timing.py; every local answer says them in Server-Timing). In AWS the first two
become DynamoDB's, S3's and Cognito's answers (milliseconds, no shared lock); the code's time
is what runs in Lambda or on Beanstalk. The figures go to benchmarks/load.json too. Exits 1
when any request failed.

    .venv/bin/python scripts/load_test.py [--users 20] [--seconds 60] [--locust .venv-load/bin/locust]
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from local.stack import ROOT, LocalStack, free_port, wait_for_http  # noqa: E402
from local.timing import parse  # noqa: E402
from tests.e2e.conftest import create_user  # noqa: E402
from tests.helpers import make_image  # noqa: E402

USERNAME, PASSWORD = "load-lee", "Load-pass-1!"
AUTHORS = ("Ana Díaz", "Luis Vidal", "Marta Puig")
KEYWORDS = ("lake", "city", "forest", "sea")
API_GATEWAY_LIMIT_MS = 29_000  # API Gateway's integration timeout (infra/openapi.yaml: timeoutInMillis)
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def start_portals(stack: LocalStack, state: Path, count: int = 2) -> list[str]:
    """Portal instances as in production: gunicorn, each with its own SQLite file."""
    urls = []
    for n in range(count):
        env = {**stack.env, "DJANGO_DB_PATH": str(state / f"portal-{n}.sqlite3")}
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        port = free_port()
        log = open(state / f"portal-{n}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "portal.wsgi:application", "-b", f"127.0.0.1:{port}",
             "-w", "2", "--threads", "4", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        stack.processes.append(process)
        urls.append(f"http://127.0.0.1:{port}")
        wait_for_http(f"{urls[-1]}/healthz", process=process)
    return urls


def start_api(stack: LocalStack, state: Path) -> str:
    log = open(state / "api.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([sys.executable, "-m", "local.gateway", "--port", str(stack.api_port)], cwd=ROOT,
                               env=stack.env, stdout=log, stderr=subprocess.STDOUT)
    stack.processes.append(process)
    wait_for_http(f"{stack.api_url}/images", process=process)
    return stack.api_url


def api_token(api: str) -> str:
    return requests.post(f"{api}/users/token", json={"username": USERNAME, "password": PASSWORD},
                         timeout=60).json()["id_token"]


def seed_images(api: str, token: str, count: int) -> None:
    content = base64.b64encode(make_image(size=(32, 24))).decode()
    for i in range(count):
        reply = requests.post(f"{api}/images", headers={"Authorization": token}, timeout=60, json={
            "title": f"Seeded {('harbour', 'dawn', 'market', 'bridge')[i % 4]} {i}", "author": AUTHORS[i % 3],
            "keywords": f"{KEYWORDS[i % 4]},{KEYWORDS[(i + 1) % 4]}", "capture_date": f"2023-0{1 + i % 9}-15",
            "filename": "seed.png", "image_content": content})
        reply.raise_for_status()


def summary(stats_csv: Path) -> list[dict]:
    """Per route: requests, failures, requests per second, p50/p95/p99 in ms (locust's CSV)."""
    rows = []
    with stats_csv.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append({"route": row["Name"] if row["Name"] != "Aggregated" else "all routes",
                         "requests": int(row["Request Count"]), "errors": int(row["Failure Count"]),
                         "rps": round(float(row["Requests/s"]), 2), "p50_ms": float(row["50%"] or 0),
                         "p95_ms": float(row["95%"] or 0), "p99_ms": float(row["99%"] or 0)})
    return rows


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (0 for none)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))] if ordered else 0.0


def parts(spent: dict) -> dict[str, float]:
    """One answer's time by where it went, in ms: the emulator's work, its queue, the code's own
    time (the server's time outside its AWS calls) and the wait for a server (the rest)."""
    total, app = spent["ms"], spent.get("app", spent["ms"])
    return {"emulator": spent.get("emulator", 0.0), "queue": spent.get("queue", 0.0),
            "code": max(0.0, app - spent.get("aws", 0.0)), "waiting": max(0.0, total - app)}


def breakdown(timings: Path) -> list[dict]:
    """Per route, p50 and p95 of each part (parts()), from the locustfile's JSON lines."""
    by_route: dict[str, list[dict]] = defaultdict(list)
    if timings.exists():
        for line in timings.read_text(encoding="utf-8").splitlines():
            spent = json.loads(line)
            by_route[spent["route"]].append(parts(spent))
    return [{"route": route, **{f"{part}_{name}": round(percentile([p[part] for p in found], share))
                                for part in ("emulator", "queue", "code", "waiting")
                                for name, share in (("p50", 0.5), ("p95", 0.95))}}
            for route, found in sorted(by_route.items())]


def breakdown_table(rows: list[dict]) -> str:
    out = ["| route | emulator work p50 / p95 | emulator queue p50 / p95 | code p50 / p95 | waiting for a server p50 / p95 |",
           "|---|---:|---:|---:|---:|"]
    out += [f"| {r['route']} | " + " | ".join(f"{r[f'{part}_p50']} / {r[f'{part}_p95']}"
                                              for part in ("emulator", "queue", "code", "waiting")) + " |"
            for r in rows]
    return "\n".join(out)


def alone(portal: str, api: str, token: str, runs: int) -> list[dict]:
    """Each route timed with nothing else running on the stack: `runs` requests one at a time;
    the median of the whole, the code's own part and the emulator's, and how far below API
    Gateway's limit the whole is."""
    browser = requests.Session()
    login = f"{portal}/accounts/login/"
    form = browser.get(login, timeout=60)
    browser.post(login, data={"username": USERNAME, "password": PASSWORD,
                              "csrfmiddlewaretoken": _CSRF.search(form.text).group(1)},
                 headers={"Referer": login}, timeout=120).raise_for_status()
    auth = {"Authorization": token}
    some = requests.get(f"{api}/images", params={"limit": 1}, headers=auth, timeout=60).json()[0]["id"]
    content = base64.b64encode(make_image(size=(32, 24))).decode()
    routes = {
        "api: list": lambda: requests.get(f"{api}/images", params={"limit": 25}, headers=auth, timeout=120),
        "api: filters": lambda: requests.get(f"{api}/images", params={"author": AUTHORS[0], "keywords": "lake",
                                                                       "capture_date": "2023"}, headers=auth, timeout=120),
        "api: search": lambda: requests.get(f"{api}/images", params={"q": "harbour dawn"}, headers=auth, timeout=120),
        "api: view": lambda: requests.get(f"{api}/images/id/{some}", headers=auth, timeout=120),
        "api: add": lambda: requests.post(f"{api}/images", headers=auth, timeout=120, json={
            "title": "Alone", "author": AUTHORS[0], "keywords": "lake", "filename": "alone.png",
            "image_content": content}),
        "portal: list": lambda: browser.get(f"{portal}/", timeout=120),
        "portal: filters": lambda: browser.get(f"{portal}/", params={"author": AUTHORS[0], "keyword": "lake"},
                                               timeout=120),
        "portal: search": lambda: browser.get(f"{portal}/", params={"q": "harbour dawn"}, timeout=120),
        "portal: view": lambda: browser.get(f"{portal}/{some}/change/", timeout=120),
    }
    rows = []
    for route, call in routes.items():
        found = []
        for _ in range(runs):
            started = time.perf_counter()
            reply = call()
            spent = {"ms": (time.perf_counter() - started) * 1000, **parse(reply.headers.get("Server-Timing", ""))}
            reply.raise_for_status()
            found.append(parts(spent) | {"ms": spent["ms"]})
        whole = statistics.median(p["ms"] for p in found)
        rows.append({"route": route, "ms": round(whole), "code_ms": round(statistics.median(p["code"] for p in found)),
                     "emulator_ms": round(statistics.median(p["emulator"] + p["queue"] for p in found)),
                     "below_limit": round(API_GATEWAY_LIMIT_MS / max(whole, 1))})
    return rows


def alone_table(rows: list[dict]) -> str:
    out = ["| route | p50 ms | code ms | emulator ms | 29 s is |", "|---|---:|---:|---:|---:|"]
    out += [f"| {r['route']} | {r['ms']} | {r['code_ms']} | {r['emulator_ms']} | {r['below_limit']}× that |"
            for r in rows]
    return "\n".join(out)


def table(rows: list[dict]) -> str:
    out = ["| route | requests | req/s | p50 ms | p95 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|---:|"]
    out += [f"| {r['route']} | {r['requests']} | {r['rps']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
            f"{r['p99_ms']:.0f} | {r['errors']} |" for r in rows]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--alone", type=int, default=5, help="requests per route timed alone, before the load")
    parser.add_argument("--locust", default=str(ROOT / ".venv-load" / "bin" / "locust"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "load.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="image-manager-load-") as folder:
        state = Path(folder)
        stack = LocalStack(state_dir=state, emulator_port=free_port(), api_port=free_port(), quiet=True)
        try:
            stack.start_emulator()
            create_user(stack, USERNAME, PASSWORD)
            for n in range(1, args.users + 1):  # an account per person in the portal (scripts/locustfile.py)
                create_user(stack, f"{USERNAME}-{n}", PASSWORD)
            portals = start_portals(stack, state)
            api = start_api(stack, state)
            # One ID token for the API users, as a program keeps its token: the sign-in limit
            # (issue 14) refuses many sign-ins of one user from one address in a burst.
            token = api_token(api)
            seed_images(api, token, args.images)
            quiet = alone(portals[0], api, token, args.alone)
            print(f"portals {' '.join(portals)}, API {api}, emulator {stack.emulator_url}; "
                  f"{args.users} users for {args.seconds} s", flush=True)
            env = {**stack.env, "LOAD_PORTALS": ",".join(portals), "LOAD_API": api, "LOAD_USERNAME": USERNAME,
                   "LOAD_PASSWORD": PASSWORD, "LOAD_TOKEN": token, "LOAD_TIMINGS": str(state / "timings.jsonl"),
                   "LOAD_PORTAL_ACCOUNTS": str(args.users)}
            subprocess.run(
                [args.locust, "-f", str(ROOT / "scripts" / "locustfile.py"), "--headless", "--users", str(args.users),
                 "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.seconds}s", "--stop-timeout", "10",
                 "--csv", str(state / "load"), "--only-summary", "--loglevel", "WARNING"],
                cwd=ROOT, env=env, check=False, timeout=args.seconds + 120,
            )
            rows = summary(state / "load_stats.csv")
            spent = breakdown(state / "timings.jsonl")
            if any(r["errors"] for r in rows):  # say why, from the servers' own logs
                for log in sorted(state.glob("*.log")):
                    text = log.read_text(errors="replace")
                    if "Traceback" in text:
                        print(f"--- {log.name}: the last error ---\n{text[text.rfind('Traceback'):][:3000]}")
        finally:
            stack.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"users": args.users, "seconds": args.seconds, "routes": rows,
                                    "where_the_time_went": spent, "alone": quiet}, indent=1,
                                   ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nEach route alone ({args.alone} requests one at a time, medians; API Gateway's limit is 29 s):\n")
    print(alone_table(quiet))
    print(f"\n{args.users} users for {args.seconds} s, two portal instances and the REST API on one emulator:\n")
    print(table(rows))
    print("\nWhere the time went under that load (ms; the emulator's figures are the local stand-in's, "
          "not AWS's):\n")
    print(breakdown_table(spent))
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
