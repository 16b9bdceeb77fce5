"""Settings for pytest: fast, in-memory where possible."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# Nothing is collected in tests: WhiteNoise serves static files from the apps (finders).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
