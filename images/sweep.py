"""Find and repair what a crash between S3 and DynamoDB left behind. Django-free; the
`manage.py sweep_images` command is a thin shell over `sweep()`.

What it looks for (see the write order in images.catalog.services):
- cleanups not finished (objects a replacement or a delete made unreferenced, whose removal
  from the bucket and CDN was interrupted) -> finish them;
- images in the trash longer than the retention period -> purge (with repair and retention_days);
- objects under images/, thumbnails/, uploads/ and trash/ that no READY or TRASHED record
  points at, and renditions/ of no READY record's file version (a write
  that died before its transaction, a presigned upload never registered) -> delete;
- READY or TRASHED records whose file or thumbnail is missing -> report (nothing to repair from);
- facet counters (images.catalog.facets_of) that differ from a count of the READY records
  (a crash between an image's transaction and its count update) -> set right, each fix
  conditional on the counter not having moved since it was read.
Objects younger than the grace period are left alone whatever their prefix: a write in
progress puts its objects before its record exists.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pynamodb.exceptions import DeleteError, UpdateError

from images import catalog, objects
from images.catalog import cleanup
from images.catalog.facets import COUNTED_FIELDS
from images.media import renditions
from images.records import READY, TRASHED, ImageRecord, ImageTerm

SWEPT_PREFIXES = (objects.IMAGES_PREFIX, objects.THUMBNAILS_PREFIX, objects.UPLOADS_PREFIX, objects.TRASH_PREFIX,
                  objects.RENDITIONS_PREFIX)


def _original_of(key: str) -> str | None:
    """The file version a rendition key was made from (None: not a rendition of the set)."""
    try:
        return renditions.parse_key(key).original_key
    except renditions.NotOffered:
        return None


@dataclass(frozen=True)
class FacetDifference:
    """A facet counter that does not match the images: `stored` None means no counter."""

    field: str
    value: str
    label: str
    stored: int | None
    actual: int

    def line(self) -> str:
        stored = "no counter" if self.stored is None else f"counter {self.stored}"
        return f"facet {self.field} {self.value!r} ({self.label}): {stored}, {self.actual} images"


@dataclass
class SweepReport:
    """What the sweep found, and (with repair) what it did."""

    orphan_objects: list[str] = field(default_factory=list)
    recent_objects: list[str] = field(default_factory=list)  # unreferenced but within the grace period
    pending_cleanups: list[str] = field(default_factory=list)  # "<image id>#<token>"
    missing_files: list[tuple[str, str]] = field(default_factory=list)  # (image id, missing key)
    facet_differences: list[FacetDifference] = field(default_factory=list)
    recounted: list[FacetDifference] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)  # cleanups finished
    failures: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)  # trashed longer than the retention period

    @property
    def clean(self) -> bool:
        return not (self.orphan_objects or self.pending_cleanups or self.missing_files or self.failures
                    or self.facet_differences)

    def lines(self) -> list[str]:
        """The report, one line per finding, for people."""
        out = [f"orphan object: {k}" for k in self.orphan_objects]
        out += [f"unreferenced but recent (left for now): {k}" for k in self.recent_objects]
        out += [f"unfinished cleanup of removed files: {c}" for c in self.pending_cleanups]
        out += [f"missing file of image {i}: {k}" for i, k in self.missing_files]
        out += [f"facet count off: {d.line()}" for d in self.facet_differences]
        out += [f"deleted: {k}" for k in self.deleted]
        out += [f"finished cleanup: {c}" for c in self.finished]
        out += [f"recounted: {d.line()}" for d in self.recounted]
        out += [f"purged from the trash (retention): {i}" for i in self.purged]
        out += [f"failed: {f}" for f in self.failures]
        return out


def sweep(*, repair: bool = False, grace: timedelta = timedelta(minutes=60), now: datetime | None = None,
          retention_days: int | None = None) -> SweepReport:
    """Report (and with `repair`, fix) leftovers; reads the whole table, as maintenance may.
    With `repair` and `retention_days`, first purges what has been in the trash longer."""
    now = now or datetime.now(timezone.utc)
    report = SweepReport()
    if repair and retention_days is not None:
        report.purged, failures = catalog.purge_expired(retention_days=retention_days, at=now)
        report.failures.extend(failures)
    referenced: set[str] = set()
    ready_keys: dict[str, list[str]] = {}
    # Counters are read before the records: a write landing in between then makes the
    # counter move after it was read, and the conditional fix refuses instead of undoing it.
    counters = _read_counters()
    facets: dict[tuple[str, str], Counter] = {}
    for record in ImageRecord.scan(consistent_read=True):
        if record.state in (READY, TRASHED):  # a trashed image's objects are under trash/
            referenced.update((record.object_key, record.thumbnail_key))
            ready_keys[record.id] = [record.object_key, record.thumbnail_key]
        if record.state == READY:
            for key, label in catalog.facets_of(record).items():
                facets.setdefault(key, Counter())[label] += 1
    report.facet_differences = _facet_differences(counters, facets)
    pending = cleanup.pending()
    report.pending_cleanups = [item.sort_key for item in pending]
    queued = {key for item in pending for key in item.object_keys or []}

    present: set[str] = set()
    orphans: list[str] = []
    for prefix in SWEPT_PREFIXES:
        for key, modified in objects.list_objects(prefix):
            present.add(key)
            if key in referenced or key in queued:
                continue
            if key.startswith(objects.RENDITIONS_PREFIX) and _original_of(key) in referenced:
                continue  # a READY version's rendition (a trashed one's original is under trash/)
            if now - modified < grace:
                report.recent_objects.append(key)
            else:
                orphans.append(key)
    report.orphan_objects = orphans
    for image_id, keys in ready_keys.items():
        for key in keys:
            if key not in present:
                report.missing_files.append((image_id, key))

    if repair:
        for item in pending:
            if cleanup.finish(item):
                report.finished.append(item.sort_key)
            else:
                report.failures.append(f"cleanup {item.sort_key}: still failing (see the log)")
        for start in range(0, len(orphans), 1000):
            batch = orphans[start:start + 1000]
            try:
                objects.delete_objects(*batch)
                report.deleted.extend(batch)
            except Exception as exc:
                report.failures.append(f"delete {len(batch)} objects: {exc}")
        for difference in report.facet_differences:
            try:
                _recount(difference)
                report.recounted.append(difference)
            except (UpdateError, DeleteError) as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    report.failures.append(f"recount {difference.line()}: the counter changed meanwhile; "
                                           "run the sweep again")
                else:
                    report.failures.append(f"recount {difference.line()}: {exc}")
        report.facet_differences = []
    return report


def _read_counters() -> dict[tuple[str, str], ImageTerm]:
    """Every facet counter: one Query (with its pages) per facet."""
    found = {}
    for facet in COUNTED_FIELDS:
        for item in ImageTerm.query(catalog.FACET_PREFIX + facet, consistent_read=True):
            found[(facet, item.sort_key)] = item
    return found


def _facet_differences(counters: dict[tuple[str, str], ImageTerm],
                       facets: dict[tuple[str, str], Counter]) -> list[FacetDifference]:
    differences = []
    for key in sorted(set(counters) | set(facets)):
        item, labels = counters.get(key), facets.get(key, Counter())
        actual = sum(labels.values())
        stored = None if item is None else int(item.facet_count or 0)
        if stored != (actual or None):  # no counter is right for 0 images, and only then
            label = labels.most_common(1)[0][0] if labels else (item.label or key[1])
            differences.append(FacetDifference(key[0], key[1], label, stored, actual))
    return differences


def _recount(difference: FacetDifference) -> None:
    """Set one counter right, unless it moved since it was read."""
    item = ImageTerm(catalog.FACET_PREFIX + difference.field, difference.value)
    if difference.stored is None:
        unchanged = ImageTerm.term.does_not_exist()
    elif difference.stored == 0:
        unchanged = ImageTerm.facet_count.does_not_exist() | (ImageTerm.facet_count == 0)
    else:
        unchanged = ImageTerm.facet_count == difference.stored
    if difference.actual == 0:
        item.delete(condition=unchanged)
        return
    item.update(
        actions=[ImageTerm.facet_count.add(difference.actual - (difference.stored or 0)),
                 ImageTerm.label.set(ImageTerm.label | difference.label)],
        condition=unchanged,
    )
