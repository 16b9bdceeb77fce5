"""The image catalog: writes (services) and reads (selectors) shared by the portal and the
API, so an image made by one face is indistinguishable from one made by the other.
Django-free. Modules: base (types, errors), validation, terms (search postings), facets,
cursors, services (writes), trash (delete, restore, purge), history, uploads (presigned),
selectors (reads), serialise (API form).
"""

from images.catalog.base import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ORDERS,
    SEARCH_KEYS,
    Actor,
    ImageConflict,
    ImageMeta,
    InvalidField,
    Page,
    can_change,
)
from images.catalog.duplicates import Duplicate, DuplicateImage, duplicate_of, find_duplicate
from images.catalog.facets import (
    FACET_FIELDS,
    FACET_PREFIX,
    apply_facet_changes,
    facet_changes,
    facet_values,
    facets_of,
)
from images.catalog.query import PARAMS as QUERY_PARAMS
from images.catalog.query import Criteria, criteria_from, image_find
from images.catalog.counts import Count, image_count
from images.catalog.selectors import image_get, image_list, image_search
from images.catalog.serialise import image_to_dict, trashed_to_dict
from images.catalog.history import HistoryPage, history_page, recent_actions
from images.catalog.services import (
    BULK_ACTIONS,
    current_or_none,
    image_bulk_change,
    image_create,
    image_edit,
    image_update,
    request_image_id,
)
from images.catalog.trash import (
    image_delete,
    image_purge,
    image_restore,
    image_trash_list,
    purge_expired,
    trash_get,
    trash_retention_days,
)
from images.catalog.terms import normalise, terms_of
from images.catalog.uploads import (
    Upload,
    image_create_from_upload,
    image_edit_from_upload,
    upload_discard,
    upload_metadata,
    upload_owner_tag,
    upload_start,
)
from images.catalog.validation import page_size, parse_date, parse_keywords, parse_order, validate_meta
from images.limits import LIMITS, MAX_KEYWORDS, MAX_TITLE_WORDS

__all__ = [
    "Count", "image_count",
    "DEFAULT_PAGE_SIZE", "FACET_FIELDS", "FACET_PREFIX", "LIMITS", "MAX_KEYWORDS", "MAX_PAGE_SIZE",
    "MAX_TITLE_WORDS", "ORDERS", "QUERY_PARAMS", "SEARCH_KEYS", "Actor", "Criteria", "ImageConflict", "ImageMeta",
    "InvalidField", "Page", "BULK_ACTIONS", "Upload", "apply_facet_changes", "can_change", "criteria_from",
    "facet_changes", "facet_values", "facets_of", "image_bulk_change", "image_create", "image_create_from_upload",
    "image_delete", "image_edit", "image_edit_from_upload", "image_find", "image_get", "image_list",
    "image_search", "image_to_dict", "image_update", "normalise", "page_size",
    "parse_date", "parse_keywords", "parse_order", "terms_of", "upload_discard", "upload_metadata", "upload_owner_tag",
    "upload_start",
    "validate_meta", "HistoryPage", "history_page", "recent_actions", "current_or_none", "image_purge",
    "image_restore", "image_trash_list", "purge_expired", "trash_get", "trash_retention_days", "trashed_to_dict",
    "Duplicate", "DuplicateImage", "duplicate_of", "find_duplicate", "request_image_id",
]
