"""The history of an image: one entry per change (per version), written in the change's own
transaction, with who, when, which face, and each changed field before and after. Django-free."""

from __future__ import annotations

import json
from datetime import datetime

from images.catalog.base import Actor
from images.records import ImageHistory, ImageRecord

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
          token: str) -> ImageHistory:
    """The history item of one change (saved with attribute_not_exists: one per version)."""
    return ImageHistory(image_id, version, at=at, actor=actor.username, actor_sub=actor.sub, face=actor.face,
                        action=action, changes=json.dumps(changes, ensure_ascii=False, sort_keys=True),
                        request=token)


def image_history(*, image_id: str) -> list[dict]:
    """Every change of an image, oldest first: {version, at, actor, face, action, changes}."""
    return [
        {"version": int(item.version), "at": item.at.isoformat(), "actor": item.actor, "face": item.face,
         "action": item.action, "changes": json.loads(item.changes)}
        for item in ImageHistory.query(image_id, consistent_read=True)
    ]
