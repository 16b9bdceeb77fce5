"""Objects no record points at any more (a replaced file, a deleted image) leave the bucket and
the CDN through a cleanup item written in the same transaction that drops the reference.

After the commit the writer removes the objects, invalidates their CDN paths and deletes the
item; if any step fails the item stays, and a retried DELETE, a read of the trashed image
(trash.finish_pending) or the sweep finishes it (every step is idempotent). So a delete can never leave a public file that nothing remembers. Django-free.
"""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from images import objects
from images.media import renditions
from images.records import ImageTerm

log = logging.getLogger(__name__)

CLEANUP_TERM = "cleanup"


def cleanup_item(image_id: str, token: str, keys: list[str]) -> ImageTerm:
    """The item to write in the transaction that makes `keys` unreferenced."""
    return ImageTerm(CLEANUP_TERM, f"{image_id}#{token}", image_id=image_id, object_keys=sorted(set(keys)))


def finish(item: ImageTerm) -> bool:
    """Delete the objects, invalidate the CDN, drop the item; False (logged) if a step failed."""
    keys = list(item.object_keys or [])
    # A file version's renditions go with it (the fixed set: no listing); made again on demand
    # for a restored image's new version. A purge names the trashed copies: their renditions are
    # those of the public key they came from (one a render stored while the delete ran).
    versions = sorted({k for k in map(objects.public_key_of, keys) if k.startswith(objects.IMAGES_PREFIX)})
    public = [k for k in versions if k in keys]
    made = [r for k in versions for r in renditions.all_keys(k)]
    try:
        # Files first, renditions after: a render that stored one after this delete finds its
        # original gone and takes it back (images/render.py), so none outlives its file.
        for batch in (keys, made):
            for start in range(0, len(batch), 1000):
                objects.delete_objects(*batch[start:start + 1000])
        # The CDN served the public versions' renditions; a trashed version's were cut with it.
        objects.invalidate(*keys, *(renditions.renditions_prefix(k) + "*" for k in public))
        item.delete()
        return True
    except (ClientError, BotoCoreError, objects.DeleteFailed, PynamoDBException) as exc:
        # The alarm on this line (infra/alarms.tf) tells the operator; the sweep retries.
        log.error("CLEANUP_PENDING image %s: %d objects not yet removed from storage/CDN: %s",
                  item.image_id, len(keys), exc)
        return False


def pending(image_id: str | None = None) -> list[ImageTerm]:
    """Cleanups not finished yet (all, or one image's)."""
    prefix = ImageTerm.sort_key.startswith(f"{image_id}#") if image_id else None
    return list(ImageTerm.query(CLEANUP_TERM, range_key_condition=prefix, consistent_read=True))
