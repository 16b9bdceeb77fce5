"""A model-based concurrency and fault test (issue 21): three actors, on both faces, run random
writes; a seeded scheduler interleaves them at EVERY AWS call (each actor pauses in botocore's
before-send and the scheduler picks who goes next) and injects faults at any call, reads
included (throttling, 5xx, timeouts, lost replies, S3 NoSuchKey). After each schedule, with AWS
healthy again, it checks the catalog's invariants (see `check`).

Seeded and replayable: a failure prints its seed; MODEL_SEED=<seed> replays exactly that
schedule. `make test` runs the regression seeds and MODEL_SCHEDULES fixed seeds (default 60); `make soak` runs random
seeds for SOAK_SECONDS. The failures found so far stay as named schedules in test_races.py."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from unittest import mock

from botocore.exceptions import ReadTimeoutError
from moto.core.botocore_stubber import BotocoreStubber

from common.errors import AppError
from common.transient import is_transient
from images import catalog, objects
from images.api import images as api
from images.api import trash as api_trash
from images.records import READY, TRASHED, ImageHistory, ImageRecord
from images.sweep import sweep
from tests.helpers import api_event, b64, claims_for, make_image
from tests.images.test_fault_matrix import error_response

ACTORS = (
    ("alice-api", catalog.Actor(sub="sub-alice", username="alice", face="api"), claims_for()),
    ("alice-portal", catalog.Actor(sub="sub-alice", username="alice", face="portal"), claims_for()),
    ("sam-api", catalog.Actor(sub="sub-sam", username="sam", is_staff=True, face="api"),
     claims_for("sub-sam", "sam", groups="staff")),
)
FAULTS = ("throttled", "5xx", "timeout", "lost reply", "NoSuchKey")
FAULT_RATE = 0.08
OPS_PER_ACTOR = 4


@dataclass
class Run:
    """What one schedule did: the answers, the AWS calls, the faults, the decisions."""

    seed: int
    rng: random.Random
    ids: list[str] = field(default_factory=list)
    uploads: list[str] = field(default_factory=list)
    made_by_key: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    problems: list[str] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)  # (operation, AWS call) -> count
    faults: Counter = field(default_factory=Counter)  # (operation, AWS call, fault) -> count
    switches: int = 0
    trace: list[str] = field(default_factory=list)


class Scheduler:
    """One actor runs at a time, from one AWS call to the next; at each call the seeded rng
    picks who goes on (so every interleaving at call granularity is reachable)."""

    def __init__(self, run: Run):
        self.run = run
        self.cond = threading.Condition()
        self.turn: str | None = None
        self.waiting: set[str] = set()
        self.alive: set[str] = set()
        self.doing: dict[str, str] = {}
        self.local = threading.local()

    def actor(self) -> str | None:
        return getattr(self.local, "name", None)

    def pause(self, name: str) -> None:
        with self.cond:
            self.waiting.add(name)
            self.turn = None
            self.cond.notify_all()
            self.cond.wait_for(lambda: self.turn == name, timeout=60)
            self.waiting.discard(name)

    def start(self, name: str, body) -> threading.Thread:
        def go():
            self.local.name = name
            self.pause(name)
            try:
                body()
            finally:
                with self.cond:
                    self.alive.discard(name)
                    self.turn = None
                    self.cond.notify_all()

        self.alive.add(name)
        thread = threading.Thread(target=go, daemon=True)
        thread.start()
        return thread

    def drive(self) -> None:
        """Hand the turn to a random paused actor until all are done."""
        last = None
        deadline = time.monotonic() + 120
        with self.cond:
            while self.alive:
                self.cond.wait_for(lambda: self.turn is None and self.waiting >= self.alive, timeout=60)
                if time.monotonic() > deadline:
                    raise AssertionError(f"seed {self.run.seed}: the schedule hung")
                if not self.alive:
                    break
                pick = self.run.rng.choice(sorted(self.waiting & self.alive))
                self.run.switches += pick != last
                last = pick
                self.turn = pick
                self.cond.notify_all()


def faulty_send(scheduler: Scheduler, run: Run):
    """BotocoreStubber.__call__ that pauses actors at each call and injects the seeded faults."""
    real = BotocoreStubber.__call__
    sticky: dict[str, tuple[str, str | None]] = {}

    def send(stub, event_name, request, **kwargs):
        name = scheduler.actor()
        if name is None or not event_name.startswith("before-send."):
            return real(stub, event_name, request, **kwargs)
        scheduler.pause(name)
        call = event_name.removeprefix("before-send.")
        service, operation = call.split(".", 1)
        doing = scheduler.doing.get(name, "?")
        run.calls[(doing, call)] += 1
        held = sticky.get(name)
        if held and held[0] == call:
            fault = held[1]  # botocore's retry of the same call meets the same fault (sometimes)
        else:
            fault = run.rng.choice(FAULTS) if run.rng.random() < FAULT_RATE else None
            if fault == "NoSuchKey" and not (service == "s3" and operation in ("GetObject", "CopyObject")):
                fault = None
            sticky[name] = (call, fault if run.rng.random() < 0.5 else None)
        if fault is None:
            return real(stub, event_name, request, **kwargs)
        run.faults[(doing, call, fault)] += 1
        run.trace.append(f"{name} {doing}: {call} {fault}")
        if fault == "throttled":
            return error_response(400, service, "ThrottlingException" if service == "dynamodb" else "SlowDown")
        if fault == "5xx":
            return error_response(500, service, "InternalServerError" if service == "dynamodb" else "InternalError")
        if fault == "NoSuchKey":
            return error_response(404, service, "NoSuchKey")
        if fault == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        real(stub, event_name, request, **kwargs)  # "lost reply": served, then the reply is lost
        raise ReadTimeoutError(endpoint_url=request.url)

    return send


# --------------------------------------------------------------------------- the writes


def _api(run: Run, what: str, handler, method: str, path: str, body: dict, claims: dict, headers=None):
    reply = handler(api_event(method, path, body, claims=claims, headers=headers), None)
    status, answer = reply["statusCode"], json.loads(reply["body"])
    if status >= 500 and not (status == 503 and reply["headers"].get("Retry-After")):
        run.problems.append(f"{what}: {status} {answer}")
    return status, answer


def _portal(run: Run, what: str, call):
    try:
        return call()
    except AppError as exc:
        if exc.status >= 500 and not exc.retry_after:
            run.problems.append(f"{what}: {exc.status} {exc.message}")
    except Exception as exc:  # noqa: BLE001 - the portal maps only transient ones (503)
        if not is_transient(exc):
            run.problems.append(f"{what}: 500 {exc!r}")
    return None


def _target(run: Run) -> str:
    return run.rng.choice(run.ids) if run.ids else "0" * 32


def op(run: Run, name: str, actor: catalog.Actor, claims: dict, kind: str) -> None:
    rng = run.rng
    color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    image_id = _target(run)
    meta = {"title": f"T{rng.randrange(100)}", "author": "Ana", "keywords": "sea,sky"}
    if kind == "create":
        key = f"k{rng.randrange(3)}" if rng.random() < 0.6 else None
        body = {**meta, "image_content": b64(make_image("PNG", size=(16, 12), color=color))}
        for _ in range(2 if key else 1):  # retried with the same key
            status, answer = _api(run, kind, api.create_image, "POST", "/images", body, claims,
                                  {"Idempotency-Key": key} if key else None)
            if status == 201:
                run.ids.append(answer["id"])
                if key:
                    run.made_by_key[f"{actor.sub} idem {key} {body['image_content'][-12:]}"].add(answer["id"])
            if status == 422:  # the key was used with another body: refused, as documented
                break
    elif kind == "create from upload":
        upload_key = rng.choice(run.uploads)
        status, answer = _api(run, kind, api.create_image, "POST", "/images", {**meta, "upload_key": upload_key},
                              claims)
        if status == 201:
            run.ids.append(answer["id"])
            run.made_by_key[upload_key].add(answer["id"])
    elif kind == "edit partial":
        _api(run, kind, api.update_image, "PUT", "/images", {"id": image_id, "title": meta["title"]}, claims)
    elif kind == "edit full":
        _portal(run, kind, lambda: catalog.image_update(actor=actor, image_id=image_id,
                                                        meta=catalog.validate_meta(**meta, description="d",
                                                                                   capture_date=None)))
    elif kind == "replace":
        _api(run, kind, api.update_image, "PUT", "/images",
             {"id": image_id, "image_content": b64(make_image("PNG", size=(16, 12), color=color))}, claims)
    elif kind == "bulk":
        _portal(run, kind, lambda: catalog.image_bulk_change(actor=actor, image_id=image_id, action="add_keywords",
                                                             value=f"k{rng.randrange(5)}"))
    elif kind == "delete":
        if actor.face == "api":
            _api(run, kind, api.delete_image, "DELETE", "/images", {"id": image_id}, claims)
        else:
            _portal(run, kind, lambda: catalog.image_delete(actor=actor, image_id=image_id))
    elif kind == "restore":
        _api(run, kind, api_trash.restore_image, "POST", "/images/restore", {"id": image_id}, claims)
    elif kind == "purge":
        _api(run, kind, api_trash.purge_image, "POST", "/images/purge", {"id": image_id}, claims)
    elif kind == "sweep":
        _portal(run, kind, lambda: sweep(repair=True, retention_days=0))


KINDS = ("create", "create from upload", "edit partial", "edit full", "replace", "bulk", "delete", "delete",
         "restore", "purge", "sweep")


# --------------------------------------------------------------------------- the invariants


def check(run: Run) -> None:
    """The catalog, quiet and healthy, against what the answers said."""
    problems = run.problems
    records = list(ImageRecord.scan(consistent_read=True))
    ready = {r.id: r for r in records if r.state == READY}
    for record in records:
        for key in (record.object_key, record.thumbnail_key):
            if not objects.exists(key):
                problems.append(f"{record.state} image {record.id} names missing object {key}")
        if record.state == READY and objects.exists(record.object_key):
            import hashlib

            if hashlib.sha256(objects.get_object(record.object_key)).hexdigest() != record.sha256:
                problems.append(f"image {record.id}: its object does not hold its bytes")
        if record.state == TRASHED and not record.object_key.startswith(objects.TRASH_PREFIX):
            problems.append(f"trashed image {record.id} still names a public key")
    for key, made in run.made_by_key.items():
        if len(made) > 1:
            problems.append(f"one key made {len(made)} images: {key}")
    for image_id in set(run.ids):
        versions = [e.version for e in ImageHistory.query(image_id, consistent_read=True)]
        if versions != list(range(1, len(versions) + 1)):
            problems.append(f"image {image_id}: history versions {versions}")
        record = next((r for r in records if r.id == image_id), None)
        if record is not None and versions and versions[-1] != record.version:
            problems.append(f"image {image_id}: version {record.version}, last history entry {versions[-1]}")
    repaired = sweep(repair=True, grace=timedelta(0))
    problems += [f"sweep repair failed: {f}" for f in repaired.failures]
    problems += [f"missing file: {m}" for m in repaired.missing_files]
    again = sweep(grace=timedelta(0))
    if not again.clean:
        problems.append(f"after the sweep, it still finds: {again.lines()}")
    referenced = {k for r in ready.values() for k in (r.object_key, r.thumbnail_key)}
    for prefix in objects.PUBLIC_PREFIXES:
        for key, _ in objects.list_objects(prefix):
            if key not in referenced:
                problems.append(f"public object {key} belongs to no listed image after its cleanup ran")


# --------------------------------------------------------------------------- one schedule


def run_schedule(seed: int, snapshot) -> Run:
    """Run the schedule of `seed` on a fresh copy of the stack; its Run (problems included)."""
    from local import state

    state.load(snapshot)
    run = Run(seed=seed, rng=random.Random(seed))
    for i in range(2):  # a few images and uploads to start from, made before the actors run
        meta = catalog.validate_meta(title=f"Start {i}", description="", keywords="sea", author="Ana",
                                     capture_date=None)
        run.ids.append(catalog.image_create(owner=ACTORS[0][1], meta=meta,
                                            data=make_image("PNG", size=(16, 12), color=(i, 1, 2))).id)
    for i in range(2):
        started = catalog.upload_start(ACTORS[0][1])
        objects.s3().put_object(Bucket=objects.get_config().images_bucket, Key=started.key,
                                Body=make_image("PNG", size=(16, 12), color=(9, i, 9)))
        run.uploads.append(started.key)
    scheduler = Scheduler(run)
    plans = {name: [run.rng.choice(KINDS) for _ in range(OPS_PER_ACTOR)] for name, _, _ in ACTORS}

    def body(name, actor, claims):
        def go():
            for kind in plans[name]:
                scheduler.doing[name] = kind
                try:
                    op(run, name, actor, claims, kind)
                except Exception as exc:  # noqa: BLE001 - a crash of the harness is a problem too
                    run.problems.append(f"{name} {kind} raised {exc!r}")
        return go

    with mock.patch.object(BotocoreStubber, "__call__", faulty_send(scheduler, run)), \
            mock.patch("botocore.endpoint.time.sleep"):
        threads = [scheduler.start(name, body(name, actor, claims)) for name, actor, claims in ACTORS]
        scheduler.drive()
        for thread in threads:
            thread.join(30)
    check(run)
    return run


def _report(runs: list[Run], seconds: float) -> str:
    calls, faults = Counter(), Counter()
    for run in runs:
        calls.update(run.calls)
        faults.update(run.faults)
    lines = [f"{len(runs)} schedules in {seconds:.0f} s, {sum(r.switches for r in runs)} actor switches, "
             f"{sum(calls.values())} AWS calls interleaved, {sum(faults.values())} faults injected",
             f"{'operation':<20} {'AWS call':<32} {'calls':>6}  faults"]
    by_call = defaultdict(Counter)
    for (doing, call, fault), n in faults.items():
        by_call[(doing, call)][fault] += n
    for (doing, call), n in sorted(calls.items()):
        injected = ", ".join(f"{f} {k}" for f, k in sorted(by_call[(doing, call)].items()))
        lines.append(f"{doing:<20} {call:<32} {n:>6}  {injected}")
    return "\n".join(lines)


# Seeds that found a defect (each fixed since; see test_races.py for the same as fixed schedules).
REGRESSION_SEEDS = {
    "two deletes at once share trash/<public key>: the loser discards the winner's copies": 1417225586,
    "two deletes at once (again, another interleaving)": 3950605916,
    "a delete racing a delete and a replacement": 3083240993,
    "two deletes of an image made from an upload": 3606557295,
    "one upload_key registered twice at once makes two images": 686181582,
}


def test_model_concurrency(aws, _aws_snapshot, capsys):
    """MODEL_SEED replays one seed; SOAK_SECONDS runs random seeds that long; else the fixed
    budget: the regression seeds, then seeds 0..MODEL_SCHEDULES-1."""
    snapshot = _aws_snapshot[1]
    started = time.monotonic()
    if os.environ.get("MODEL_SEED"):
        seeds = iter([int(os.environ["MODEL_SEED"])])
    elif os.environ.get("SOAK_SECONDS"):
        limit = started + float(os.environ["SOAK_SECONDS"])
        seeds = (random.randrange(2**32) for _ in iter(lambda: time.monotonic() < limit, False))
    else:
        seeds = iter([*REGRESSION_SEEDS.values(), *range(int(os.environ.get("MODEL_SCHEDULES", "60")))])
    runs, failed = [], []
    for seed in seeds:
        run = run_schedule(seed, snapshot)
        runs.append(run)
        if run.problems:
            failed.append(run)
            print(f"FAILED seed {seed} (replay: MODEL_SEED={seed} make soak):\n  " + "\n  ".join(run.problems[:10])
                  + "\n  faults: " + "; ".join(run.trace[:20]))
            if not os.environ.get("SOAK_SECONDS"):
                break
    with capsys.disabled():
        print("\n" + _report(runs, time.monotonic() - started))
        for run in failed:
            print(f"FAILED seed {run.seed}: " + " | ".join(run.problems[:5]))
    assert not failed, f"seeds {[r.seed for r in failed]} broke an invariant (printed above)"
