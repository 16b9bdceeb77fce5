"""PynamoDB models of the catalog: the one source of truth for table names, keys and indexes
(the local stack creates tables from them; infra/ is tested against them). Django-free."""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from common.config import get_config

_config = get_config()

# Values of ImageRecord.state. Only READY images are listed or found by search.
PENDING = "pending"
READY = "ready"
# The single partition of the sparse ByCreated index: set once an image is READY.
LISTED = "image"


class ByCreatedIndex(GlobalSecondaryIndex):
    """Every READY image, newest first. Key: listed (always "image") + created_key."""

    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    listed = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class ImageRecord(Model):
    """One image's metadata.

    Key: id, 32 lowercase hex chars (uuid4) made by the server, written with
    attribute_not_exists so it can never overwrite another image.
    Invariants: created_key = "<created ISO-8601 UTC>#<id>" never changes; `listed` is set
    if and only if state == READY; `version` guards every update (conditional writes);
    `staged_key` is set while a replacement file waits in S3 to be copied into place.
    """

    class Meta:
        table_name = _config.images_table
        region = _config.aws_region

    id = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute(default=PENDING)
    listed = UnicodeAttribute(null=True)
    created_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    keywords = ListAttribute(of=UnicodeAttribute, default=list)
    author = UnicodeAttribute()
    creator = UnicodeAttribute()  # the Cognito username of the owner, never the client's word
    owner_sub = UnicodeAttribute()  # the Cognito sub of the owner: what permissions check
    capture_date = UnicodeAttribute(null=True)  # YYYY-MM-DD
    storage_date = UnicodeAttribute()  # YYYY-MM-DD, set by the server
    original_filename = UnicodeAttribute(default="")

    filename = UnicodeAttribute()  # "<id>.<ext>", ext from the decoded format
    object_key = UnicodeAttribute()
    thumbnail_key = UnicodeAttribute()
    content_type = UnicodeAttribute()
    byte_size = NumberAttribute()
    width = NumberAttribute()
    height = NumberAttribute()
    sha256 = UnicodeAttribute()
    staged_key = UnicodeAttribute(null=True)

    version = VersionAttribute()

    by_created = ByCreatedIndex()


class ImageTerm(Model):
    """A search posting or a facet counter, both keyed by term + sort_key.

    Posting: term = "<field>:<normalised value>" (title word, keyword, author, creator,
    captured year / month / day, stored day) + sort_key = the image's created_key, so a
    query on a term returns its images newest first and reads only the matches; `image_id`
    is set. Written in the same transaction that makes an image READY or changes its metadata.

    Facet: term = "facet:<field>" (author, creator, keyword, captured) + sort_key = the
    normalised value (as search normalises it; captured: YYYY and YYYY-MM); `label` is a
    display form and `count` the number of READY images with the value. Counted with atomic
    ADD after the image's transaction commits (never inside: concurrent creates would cancel
    each other), so a crash can leave a count off; `manage.py sweep_images` recounts.
    """

    class Meta:
        table_name = _config.image_terms_table
        region = _config.aws_region

    term = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)
    image_id = UnicodeAttribute(null=True)  # postings only
    label = UnicodeAttribute(null=True)  # facets only
    # Stored as "count"; a Python attribute named count would hide Model.count().
    facet_count = NumberAttribute(null=True, attr_name="count")  # facets only


class ExportJob(Model):
    """One export of the portal (images/export_jobs.py): a CSV or zip built into S3 off the
    request path. `selection` is JSON: {"ids": [...]} or {"key": .., "value": ..} (a search;
    an empty key is every image). Only the owner (owner_sub) sees it; it expires (TTL) with
    its file."""

    class Meta:
        table_name = _config.exports_table
        region = _config.aws_region

    id = UnicodeAttribute(hash_key=True)
    owner_sub = UnicodeAttribute()
    kind = UnicodeAttribute()  # csv | zip
    state = UnicodeAttribute()  # queued | running | done | failed
    selection = UnicodeAttribute()
    filename = UnicodeAttribute()
    total = NumberAttribute(null=True)  # images to export, when known beforehand
    done_count = NumberAttribute(default=0)
    object_key = UnicodeAttribute(null=True)
    byte_size = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()  # the worker's heartbeat while it runs
    expires_at = TTLAttribute()


MODELS: tuple[type[Model], ...] = (ImageRecord, ImageTerm, ExportJob)
