"""Limits of an image's metadata: the one copy, shared by validation (images.catalog) and the
metadata read from files (images.media) so the two can never drift. Django-free."""

from __future__ import annotations

# Characters per field.
LIMITS = {"title": 200, "description": 4000, "author": 200, "keyword": 50, "filename": 255}
MAX_KEYWORDS = 20
MAX_TITLE_WORDS = 20
