"""Bulk import and export over the REST API of any deployment (local or AWS). Django-free.

    python -m images.cli import ./photos --api URL --user NAME [--author A] [--keywords k1,k2]
                                [--on-duplicate keep|refuse]
    python -m images.cli export ./out --api URL --user NAME [--query author=Ann]

The password comes from IMAGES_PASSWORD, else a prompt. Import sends each file straight to
S3 (POST /images/uploads, then POST /images with upload_key), several at a time, with the
file's own EXIF/IPTC/XMP metadata as the portal reads it. It is resumable by content: a file
whose bytes are already an image of yours (same sha256; or recorded in the folder's
manifest, .images-cli.json, as imported and still there) is skipped, and so is a file the
server refused before with the same bytes (--retry-refused sends those again).

A file whose content the server finds already in the catalog (anyone's image, the trash
included: the same bytes, or the same picture with other embedded metadata) is imported by
default and named in the summary with the image it duplicates: --on-duplicate keep, as the
API's default, because a folder import is the user's own copy with its own metadata and a tool
that silently leaves files out is worse than one that says which ones to look at. With
--on-duplicate refuse the server stores nothing and the file is counted as skipped with the
reason; that is not remembered in the manifest, so a later run asks the server again (the
other image may be purged by then, or the run may keep duplicates).

Files are read a few ahead of the workers, never the whole folder at once. Ctrl-C stops the
run: no file is started, files being sent are abandoned, files being registered are finished
and recorded; the summary says what is left, the exit status is 130, and the same command
resumes. A second Ctrl-C exits at once. Hidden files and folders, links to folders and links
out of the folder are left out (the summary names the folders and links).

One module on purpose: import and export share the API client, the sign-in, the progress bar and
the Ctrl-C handling, and a run's state (work queue, manifest) lives in one place; split, each
piece would need that state passed around.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import io
import json
import os
import secrets
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import requests
from tqdm import tqdm

from images.filenames import clean_filename, stored_download_name, unique_names
from images.media import read_metadata
from images.spreadsheet import csv_lines

MANIFEST = ".images-cli.json"
PASSWORD_ENV = "IMAGES_PASSWORD"
# Like the portal's prefill: EXIF/IPTC/XMP sit near the start of a file.
METADATA_BYTES = 2 * 1024 * 1024
TIMEOUT = 60
UPLOAD_TIMEOUT = 600
# Files read and queued ahead of the workers, per worker: enough to keep them busy, few enough
# that a stop leaves little queued work behind.
AHEAD_PER_JOB = 2
# How often the main thread looks up from waiting on the workers (to see a Ctrl-C).
POLL_SECONDS = 0.2
# The exit status of a run stopped by Ctrl-C, as a shell reports a process ended by SIGINT.
STOPPED_STATUS = 130


class ApiError(Exception):
    """The API refused or failed; the message is the API's own."""


class DuplicateRefused(ApiError):
    """on_duplicate "refuse": the server found the content in the catalog and stored nothing."""

    def __init__(self, duplicate_of: dict):
        super().__init__(describe_duplicate(duplicate_of))
        self.duplicate_of = duplicate_of


class Abandoned(Exception):
    """The run was asked to stop before this file was stored."""


@dataclass
class Outcome:
    path: Path
    status: str  # imported | skipped | refused | left (not done: the run was stopped)
    reason: str = ""
    image_id: str = ""
    duplicate_of: dict | None = None  # the API's duplicate_of, for a file imported anyway


def describe_duplicate(duplicate_of: dict) -> str:
    """The API's duplicate_of in words: which image, how it matches, whether it is in the trash."""
    what = "the same file" if duplicate_of.get("match") == "same_bytes" else "the same picture"
    where = ", in the trash" if duplicate_of.get("in_trash") else ""
    return f"{what} as “{duplicate_of.get('title')}” (id {duplicate_of.get('id')}{where})"


@dataclass
class Api:
    base: str
    token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def sign_in(self, username: str, password: str) -> None:
        answer = self.session.post(f"{self.base}/users/token", json={"username": username, "password": password},
                                   timeout=TIMEOUT)
        body = _json(answer)
        if answer.status_code != 200 or "id_token" not in body:
            raise ApiError(f"Sign-in failed: {body.get('msg') or answer.status_code}")
        self.token = body["id_token"]

    def call(self, method: str, path: str, **kwargs) -> tuple[int, object, requests.Response]:
        answer = self.session.request(method, path if path.startswith("http") else f"{self.base}{path}",
                                      headers={"Authorization": self.token}, timeout=TIMEOUT, **kwargs)
        return answer.status_code, _json(answer), answer

    def images(self, path: str = "/images") -> Iterator[dict]:
        """Every image of a list or search, following the Link: rel="next" pages."""
        url = f"{self.base}{path}?limit=100"
        while url:
            status, body, answer = self.call("GET", url)
            if status != 200:
                raise ApiError(f"Listing {path} failed: {_message(body, status)}")
            yield from body
            url = answer.links.get("next", {}).get("url")


def _json(answer: requests.Response):
    try:
        return answer.json()
    except ValueError:
        return {}


def _message(body, status: int) -> str:
    if isinstance(body, dict):
        return str(body.get("msg") or body.get("message") or f"HTTP {status}")
    return f"HTTP {status}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- import


class Manifest:
    """What earlier runs did to each file content (by sha256), kept next to the files."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        try:
            self.entries: dict[str, dict] = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def record(self, sha256: str, entry: dict) -> None:
        with self.lock:
            self.entries[sha256] = entry
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
            temporary.replace(self.path)  # a run killed midway keeps the previous manifest whole


class Stop:
    """Ctrl-C (SIGINT) while importing: the first stops the run after the uploads in flight,
    the second exits at once."""

    def __init__(self):
        self.event = threading.Event()

    def is_set(self) -> bool:
        return self.event.is_set()

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.event.is_set():
            # The manifest is replaced whole on every record, so it stays readable.
            os.write(2, b"\nStopped at once; uploads in flight were abandoned.\n")
            os._exit(STOPPED_STATUS)
        self.event.set()
        os.write(2, b"\nStopping: files being registered are finished, files being sent abandoned; "
                    b"Ctrl-C again to stop at once.\n")


@dataclass
class Folder:
    """The files to import, and what was left out to stay inside the folder."""

    files: list[Path]
    left_out: list[tuple[Path, str]]


def _files(folder: Path) -> Folder:
    """The regular files under `folder`, never leaving it: hidden files and folders are left
    out, and so are links to a folder or to a file outside it (said in the summary; hidden
    files, like the manifest, silently)."""
    root = folder.resolve()
    files: list[Path] = []
    left_out: list[tuple[Path, str]] = []
    for here, dirs, names in os.walk(folder):  # links to folders are listed, not followed
        here = Path(here)
        for name in sorted(dirs):
            if name.startswith("."):
                left_out.append((here / name, "a hidden folder, not imported"))
            elif (here / name).is_symlink():
                left_out.append((here / name, "a link to a folder, not followed"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(names):
            path = here / name
            if name.startswith("."):
                continue
            try:
                target = path.resolve(strict=True)
                regular = stat.S_ISREG(target.stat().st_mode)
            except (OSError, RuntimeError):  # a broken link or a loop of links
                left_out.append((path, "a link to nothing, not followed"))
                continue
            if not target.is_relative_to(root):
                left_out.append((path, "a link to a file outside the folder, not followed"))
            elif regular:
                files.append(path)
    return Folder(sorted(files), sorted(left_out))


def _meta_for(path: Path, args) -> dict:
    with path.open("rb") as f:
        found = read_metadata(f.read(METADATA_BYTES))
    keywords = list(found.keywords or ()) + [k for k in (args.keywords or "").split(",") if k.strip()]
    return {
        "title": found.title or path.stem.replace("_", " ").replace("-", " ").strip() or path.name,
        "description": found.description or "",
        "keywords": ",".join(keywords),
        "author": args.author or found.author or args.user,
        "capture_date": found.capture_date or "",
        "filename": clean_filename(path.name),
    }


class UploadBody:
    """A presigned POST's multipart/form-data body (the policy's fields, then the file), read
    from the file as it is sent rather than held in memory, that stops being sent when asked:
    its read() raises Abandoned once `stop` is set."""

    def __init__(self, fields: dict, file, size: int, stop: Stop | threading.Event):
        boundary = secrets.token_hex(16)
        head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                       for name, value in fields.items())
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n")
        tail = f"\r\n--{boundary}--\r\n".encode()
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self.parts = [io.BytesIO(head.encode()), file, io.BytesIO(tail)]
        self.length = len(head.encode()) + size + len(tail)
        self.stop = stop

    def __len__(self) -> int:
        return self.length

    def __iter__(self):  # requests sends an iterable with a length as a stream, read() by read()
        return iter(lambda: self.read(64 * 1024), b"")

    def read(self, size: int = -1) -> bytes:
        if self.stop.is_set():
            raise Abandoned("stopped while sending the file")
        out = b""
        while self.parts and (size < 0 or len(out) < size):
            chunk = self.parts[0].read(-1 if size < 0 else size - len(out))
            if not chunk:
                self.parts.pop(0)
            out += chunk
        return out


def import_one(api: Api, path: Path, meta: dict, stop: Stop | threading.Event | None = None) -> dict:
    """Send one file through a presigned upload and register it; the API's answer (id, duplicate_of).
    When `stop` is set before the file is sent whole it raises Abandoned; a file sent whole is registered."""
    stop = stop or threading.Event()
    size = path.stat().st_size
    if size == 0:
        raise ApiError("The file is empty.")
    if stop.is_set():
        raise Abandoned("stopped before sending the file")
    status, upload, _ = api.call("POST", "/images/uploads")
    if status != 201:
        raise ApiError(_message(upload, status))
    if size > upload["max_bytes"]:
        raise ApiError(f"The file has {size:,} bytes; the limit is {upload['max_bytes']:,}.")
    with path.open("rb") as f:
        body = UploadBody(upload["fields"], f, size, stop)
        # (connect, read): a send that makes no progress for TIMEOUT fails, as does an answer
        # that takes UPLOAD_TIMEOUT once the file is sent.
        sent = requests.post(upload["url"], data=body, headers={"Content-Type": body.content_type},
                             timeout=(TIMEOUT, UPLOAD_TIMEOUT))
    if sent.status_code not in (200, 201, 204):
        raise ApiError(f"The storage refused the file (HTTP {sent.status_code}).")
    status, body, _ = api.call("POST", "/images", json={**meta, "upload_key": upload["upload_key"]})
    if status == 409 and isinstance(body, dict) and body.get("duplicate_of"):
        raise DuplicateRefused(body["duplicate_of"])
    if status != 201:
        raise ApiError(_message(body, status))
    return body


def run_import(api: Api, folder: Path, args, stop: Stop | threading.Event | None = None) -> list[Outcome]:
    """Import the folder's files, a few at a time; once `stop` is set, no new file is started,
    files being sent are abandoned and files being registered finished (every file not done is
    an Outcome "left")."""
    stop = stop or threading.Event()
    manifest = Manifest(Path(args.manifest) if args.manifest else folder / MANIFEST)
    mine = {image.get("sha256"): image["id"] for image in api.images(f"/images/creator/{args.user}")}
    ids = set(mine.values())
    found = _files(folder)
    outcomes: list[Outcome] = [Outcome(path, "left out", reason) for path, reason in found.left_out]
    seen: dict[str, Path] = {}  # this run's contents, so a file and a link to it are sent once

    def work(path: Path, digest: str) -> Outcome:
        try:
            answer = import_one(api, path, {**_meta_for(path, args), "on_duplicate": args.on_duplicate}, stop)
        except Abandoned as exc:
            return Outcome(path, "left", str(exc))
        except DuplicateRefused as exc:  # asked for; not remembered, so a later run asks again
            return Outcome(path, "skipped", f"a duplicate, not imported (--on-duplicate refuse): {exc}")
        except (ApiError, OSError, requests.RequestException) as exc:
            reason = str(exc)
            if not isinstance(exc, ApiError):  # a network fault: try again next run
                return Outcome(path, "refused", reason)
            manifest.record(digest, {"status": "refused", "reason": reason, "name": path.name})
            return Outcome(path, "refused", reason)
        manifest.record(digest, {"status": "imported", "id": answer["id"], "name": path.name})
        return Outcome(path, "imported", image_id=answer["id"], duplicate_of=answer.get("duplicate_of"))

    def settled(path: Path) -> Outcome | None:
        """The outcome of a file decided without sending it; None when it is to be sent."""
        try:
            digest = _sha256(path)
        except OSError as exc:
            return Outcome(path, "refused", f"The file could not be read: {exc.strerror or exc}")
        before = manifest.entries.get(digest, {})
        if digest in seen:
            return Outcome(path, "skipped", f"the same file as {seen[digest].relative_to(folder)}")
        seen[digest] = path
        if digest in mine:
            return Outcome(path, "skipped", "already in the catalog", mine[digest])
        if before.get("status") == "imported" and before.get("id") in ids:
            return Outcome(path, "skipped", "already in the catalog (imported before)", before["id"])
        if before.get("status") == "refused" and not args.retry_refused:
            return Outcome(path, "skipped", f"refused before: {before.get('reason')}")
        pending.add(pool.submit(work, path, digest))
        return None

    pending: set[Future] = set()
    started = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool, \
            tqdm(total=len(found.files), unit="file", desc="Importing", disable=args.quiet) as bar:

        def collect(until: int) -> None:
            """Wait until at most `until` files are queued or in flight, taking in their outcomes."""
            nonlocal pending
            while len(pending) > until:
                done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    outcomes.append(future.result())
                    bar.update()
                if stop.is_set() and until > 0:
                    return

        for path in found.files:
            collect(AHEAD_PER_JOB * args.jobs - 1)
            if stop.is_set():
                break
            started += 1
            outcome = settled(path)
            if outcome:
                outcomes.append(outcome)
                bar.update()
        collect(0)
    outcomes.extend(Outcome(path, "left") for path in found.files[started:])
    return outcomes


def stopped(outcomes: list[Outcome]) -> bool:
    """Whether the run was stopped before every file was done."""
    return any(o.status == "left" for o in outcomes)


def summary(outcomes: list[Outcome], folder: Path) -> str:
    counts = {s: sum(o.status == s for o in outcomes)
              for s in ("imported", "skipped", "refused", "left", "left out")}
    files = sum(counts[s] for s in ("imported", "skipped", "refused", "left"))
    duplicates = sorted((o for o in outcomes if o.duplicate_of), key=lambda o: o.path)
    some = "1 duplicate of an image" if len(duplicates) == 1 else f"{len(duplicates)} duplicates of images"
    kept = f" ({some} already in the catalog)" if duplicates else ""
    lines = [f"Imported {counts['imported']}{kept}, skipped {counts['skipped']}, refused {counts['refused']} "
             f"of {files} files."]
    for o in duplicates:
        lines.append(f"  duplicate: {o.path.relative_to(folder)}: imported as {o.image_id}; "
                     f"{describe_duplicate(o.duplicate_of)}")
    for status in ("skipped", "refused", "left out"):
        for o in sorted((o for o in outcomes if o.status == status), key=lambda o: o.path):
            lines.append(f"  {status}: {o.path.relative_to(folder)}: {o.reason}")
    if counts["left"]:
        lines.append(f"Stopped: imported {counts['imported']}, {counts['left']} left; run again to resume.")
    return "\n".join(lines)


# ---------------------------------------------------------------- export


def run_export(api: Api, out: Path, args) -> list[Outcome]:
    path = "/images"
    if args.query:
        key, _, value = args.query.partition("=")
        if not value:
            raise ApiError("Give the query as key=value, for example author=Ann.")
        path = f"/images/{requests.utils.quote(key, safe='')}/{requests.utils.quote(value, safe='')}"
    images = list(api.images(path))
    out.mkdir(parents=True, exist_ok=True)
    # The portal's download names: the real type's extension kept, so no image is saved as
    # images.csv (or as a .html or .exe); unique among them and the CSV.
    names = unique_names(["images.csv"] + [stored_download_name(i.get("original_filename"), i["filename"])
                                           for i in images])[1:]
    outcomes = []
    with tqdm(total=len(images), unit="file", desc="Exporting", disable=args.quiet) as bar:
        for image, name in zip(images, names):
            target = out / name
            if target.exists() and image.get("sha256") and _sha256(target) == image["sha256"]:
                outcomes.append(Outcome(target, "skipped", "already downloaded"))
            else:
                with requests.get(image["object_url"], stream=True, timeout=UPLOAD_TIMEOUT) as answer:
                    answer.raise_for_status()
                    with target.open("wb") as f:
                        for chunk in answer.iter_content(1024 * 1024):
                            f.write(chunk)
                outcomes.append(Outcome(target, "imported", image_id=image["id"]))
            bar.update()
    fields = ("id", "title", "description", "keywords", "author", "creator", "capture_date", "storage_date",
              "original_filename", "object_url")
    with (out / "images.csv").open("w", newline="", encoding="utf-8") as f:
        f.writelines(csv_lines(("file", *fields), ((name, *(image.get(k, "") for k in fields))
                                                   for image, name in zip(images, names))))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m images.cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("import", "export"):
        p = sub.add_parser(name)
        p.add_argument("folder", type=Path)
        p.add_argument("--api", required=True, help="the API's base URL (the stage URL in AWS)")
        p.add_argument("--user", required=True)
        p.add_argument("--quiet", action="store_true", help="no progress bar")
    imp = sub.choices["import"]
    imp.add_argument("--author", help="author of every image without one in its metadata (default: you)")
    imp.add_argument("--keywords", help="comma-separated keywords added to every image")
    imp.add_argument("--jobs", type=int, default=4, help="files sent at a time (default 4)")
    imp.add_argument("--manifest", help=f"where to remember what was done (default FOLDER/{MANIFEST})")
    imp.add_argument("--retry-refused", action="store_true", help="send again files refused before")
    imp.add_argument("--on-duplicate", choices=("keep", "refuse"), default="keep",
                     help="a file whose content is already in the catalog (anyone's image, the trash included; "
                          "the same bytes or the same picture): keep (the default, as the API) imports it and "
                          "names the image it duplicates in the summary, so no file is left out unasked; "
                          "refuse stores nothing and counts it as skipped, with the reason")
    sub.choices["export"].add_argument("--query", help="key=value, a search of GET /images/{key}/{value}")
    args = parser.parse_args(argv)

    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"Password of {args.user}: ")
    api = Api(args.api.rstrip("/"))
    try:
        api.sign_in(args.user, password)
        if args.command == "import":
            if not args.folder.is_dir():
                raise ApiError(f"{args.folder} is not a folder.")
            stop = Stop()
            stop.install()
            outcomes = run_import(api, args.folder, args, stop)
            print(summary(outcomes, args.folder))
            if stopped(outcomes):
                return STOPPED_STATUS
            return 1 if any(o.status == "refused" for o in outcomes) else 0
        outcomes = run_export(api, args.folder, args)
        done = sum(o.status == "imported" for o in outcomes)
        print(f"Exported {done}, skipped {len(outcomes) - done} already there, to {args.folder}.")
        return 0
    except (ApiError, requests.RequestException) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
