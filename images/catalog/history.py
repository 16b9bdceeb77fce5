"""The history of an image: one entry per change (per version), written in the change's own
transaction, with who, when, which face, and each changed field before and after. Django-free."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from common.errors import NotFound
from images.catalog.base import DEFAULT_PAGE_SIZE, ID, Actor, can_change
from images.catalog.cursors import decode_cursor, encode_cursor
from images.records import READY, TRASHED, ImageHistory, ImageRecord

# The fields a person changes, as the history shows them.
TRACKED = ("title", "description", "keywords", "author", "capture_date", "original_filename",
           "content_type", "width", "height", "byte_size", "sha256")


def snapshot(record: ImageRecord | None) -> dict:
    """The tracked fields of a record (empty for none), in plain JSON values."""
    if record is None:
        return {}
    values = {field: getattr(record, field) for field in TRACKED}
    values["keywords"] = ",".join(record.keywords or [])
    for field in ("width", "height", "byte_size"):
        values[field] = int(values[field]) if values[field] is not None else None
    return values


def diff(before: dict, after: dict) -> dict[str, list]:
    """{field: [before, after]} for every field whose value differs."""
    return {f: [before.get(f), after.get(f)] for f in TRACKED if before.get(f) != after.get(f)}


def entry(*, image_id: str, version: int, actor: Actor, action: str, changes: dict, at: datetime,
          token: str, title: str | None = None) -> ImageHistory:
    """The history item of one change (saved with attribute_not_exists: one per version)."""
    return ImageHistory(image_id, version, at=at, actor=actor.username, actor_sub=actor.sub or actor.username,
                        face=actor.face, action=action, title=title,
                        changes=json.dumps(changes, ensure_ascii=False, sort_keys=True), request=token)


def _entry_dict(item: ImageHistory) -> dict:
    return {"version": int(item.version), "at": item.at.isoformat(), "actor": item.actor, "face": item.face,
            "action": item.action, "changes": json.loads(item.changes)}


@dataclass(frozen=True)
class HistoryPage:
    """One page of history entries (dicts, oldest first) and the cursor of the next."""

    items: list[dict]
    next_cursor: str | None


def can_read_history(actor: Actor, image_id: str) -> bool:
    """A listed image's history: every signed-in person (its metadata is theirs to see too); a
    trashed one's: its owner and staff; a purged one's: staff only."""
    try:
        record = ImageRecord.get(image_id, consistent_read=True)
    except DoesNotExist:
        return actor.is_staff
    return record.state == READY or (record.state == TRASHED and can_change(actor, record))


def history_page(*, actor: Actor, image_id: str, limit: int = DEFAULT_PAGE_SIZE,
                 cursor: str | None = None) -> HistoryPage:
    """One page of an image's changes, oldest first (signed cursor). NotFound when the history
    is not the actor's to read, or there is none."""
    if not isinstance(image_id, str) or not ID.match(image_id) or not can_read_history(actor, image_id):
        raise NotFound("No image has that id.")
    start = decode_cursor(cursor, {"history": image_id})
    last_key = {"image_id": {"S": image_id}, "version": {"N": start["sort"]}} if start else None
    found = list(ImageHistory.query(image_id, consistent_read=True, limit=limit + 1, page_size=limit + 1,
                                    last_evaluated_key=last_key))
    if not found and start is None:
        raise NotFound("No image has that id.")
    items = [_entry_dict(item) for item in found[:limit]]
    more = len(found) > limit
    return HistoryPage(items, encode_cursor({"history": image_id, "sort": str(items[-1]["version"])}) if more else None)


def recent_actions(*, actor: Actor, limit: int = 10) -> list[dict]:
    """The actor's own latest changes, newest first, like the admin's "Recent actions": one
    Query of the by_actor index (images.records.ByActorIndex says why per person)."""
    return [{**_entry_dict(item), "image_id": item.image_id, "title": item.title or ""}
            for item in ImageHistory.by_actor.query(actor.sub, scan_index_forward=False, limit=limit,
                                                    page_size=limit)]
