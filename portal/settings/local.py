"""Settings for `make run`: the local stack on loopback."""

from .base import *  # noqa: F403
from .base import os

DEBUG = os.environ.get("DJANGO_DEBUG", "true").lower() in {"1", "true", "yes"}
# `make run` serves static files straight from the apps, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
