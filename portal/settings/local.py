"""Settings for `make run`: the local stack on loopback."""

from .base import *  # noqa: F403
from .base import os

# The portal's own error pages, as in production; DJANGO_DEBUG=true shows Django's debug pages.
DEBUG = os.environ.get("DJANGO_DEBUG", "false").lower() in {"1", "true", "yes"}
# `make run` serves static files straight from the apps, without collectstatic.
# Nothing is collected locally (no staticfiles/ directory to warn about): WhiteNoise serves
# static files from the apps (finders).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Server-Timing on each answer: what its AWS calls cost in the local emulator (`make load`).
MIDDLEWARE = ["local.timing.ServerTimingMiddleware", *MIDDLEWARE]  # noqa: F405 - outermost: the whole request
