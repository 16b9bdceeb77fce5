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

# Values of ImageRecord.state. Only READY images are listed or found by search. DELETING: the
# image left the catalog (unlisted, no postings) and its objects are being removed; a retried
# delete or the sweep finishes the job, so a crash in between never leaves a public file behind
# without a record that says so.
PENDING = "pending"
READY = "ready"
DELETING = "deleting"
# In the trash (images.catalog.trash): unlisted, no search postings, not found by id; its
# objects are under the private trash/ prefix and deleted_at / deleted_by say who and when.
TRASHED = "trashed"
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
    Files: object_key and thumbnail_key name immutable objects, one per file version
    (images/<id>/<sha256>.<ext>, see images.objects): a new file gets new keys, written before
    the transaction that points the record at them.
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
    pixel_hash = UnicodeAttribute(null=True)  # sha256 of the decoded pixels (duplicate detection)
    deleted_at = UTCDateTimeAttribute(null=True)  # set while TRASHED
    deleted_by = UnicodeAttribute(null=True)  # username of who moved it to the trash
    deleted_by_sub = UnicodeAttribute(null=True)

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

    Cleanup: term = "cleanup" + sort_key = "<image id>#<token>"; `object_keys` are objects that
    no record points at any more (a replaced file, a deleted image) and that must leave the
    bucket and the CDN. Written in the same transaction that drops the last reference, deleted
    once the objects are gone and the CDN invalidated; the sweep finishes any a crash left.

    Claim: term = "claim:sha256:<hex>" or "claim:pixels:<hex>" + sort_key = "claim"; `image_id`
    stored that content last while refusing duplicates (images.catalog.duplicates.Claim), until
    `expires_at` (then the table's TTL removes it).
    """

    class Meta:
        table_name = _config.image_terms_table
        region = _config.aws_region

    term = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)
    image_id = UnicodeAttribute(null=True)  # postings and cleanups
    object_keys = ListAttribute(of=UnicodeAttribute, null=True)  # cleanups only
    label = UnicodeAttribute(null=True)  # facets only
    # Stored as "count"; a Python attribute named count would hide Model.count().
    facet_count = NumberAttribute(null=True, attr_name="count")  # facets only
    expires_at = TTLAttribute(null=True)  # claims only


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


class ByActorIndex(GlobalSecondaryIndex):
    """Every history entry by who made it, newest last: "Recent actions". Key: actor_sub + at.

    One partition per person (the sweep is one more), so no partition takes everyone's writes:
    a single "recent" partition would carry every change of the catalog, and a throttled index
    partition throttles the base table's writes, i.e. every change's transaction.
    """

    class Meta:
        index_name = "by_actor"
        projection = AllProjection()

    actor_sub = UnicodeAttribute(hash_key=True)
    at = UTCDateTimeAttribute(range_key=True)


class ImageHistory(Model):
    """One change of an image: written in the same transaction as the change itself.

    Key: image_id + version (the image's version after the change: 1 for the create), so
    there is exactly one entry per version and never a change without its entry. Written with
    attribute_not_exists and never updated or deleted through the product. `changes` is JSON:
    {field: [before, after]} for each field that changed.
    """

    class Meta:
        table_name = _config.history_table
        region = _config.aws_region

    image_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(range_key=True)
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()  # Cognito username, or "sweep"
    actor_sub = UnicodeAttribute()  # never empty: it keys the by_actor index
    face = UnicodeAttribute()  # portal, api, sweep
    action = UnicodeAttribute()  # create, edit, replace, delete, bulk edits ...
    changes = UnicodeAttribute(default="{}")
    # The DynamoDB ClientRequestToken of the change's transaction: tells a retried commit
    # whose first reply was lost from someone else's change.
    request = UnicodeAttribute(default="")
    title = UnicodeAttribute(null=True)  # the image's title after the change (what lists show)

    by_actor = ByActorIndex()


class IdempotencyRecord(Model):
    """The table of Powertools' idempotency utility (DynamoDBPersistenceLayer's default schema):
    one item per idempotency key, expiring with DynamoDB's TTL on `expiration`. Declared here
    only so the local stack and infra/ share one definition; images.catalog.idempotency writes it
    through Powertools.
    """

    class Meta:
        table_name = _config.idempotency_table
        region = _config.aws_region

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


MODELS: tuple[type[Model], ...] = (ImageRecord, ImageTerm, ImageHistory, IdempotencyRecord, ExportJob)
