"""Settings shared by every environment; values come from environment variables with safe
local defaults (the names match Terraform's Beanstalk settings and the local stack)."""

from __future__ import annotations

import os
from pathlib import Path

from csp.constants import NONE, SELF

from common.config import get_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "local-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "").lower() in {"1", "true", "yes"}
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",  # for its templates and CSS: the portal looks like the admin
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "drf_spectacular_sidecar",  # Swagger UI's files for /api/docs/ (no DRF needed)
    "accounts",
    "images",
]

MIDDLEWARE = [
    "portal.logs.RequestIdMiddleware",  # first: every log line of a request carries its id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After auth and messages: refreshes Cognito tokens, ends revoked sessions with a message.
    "accounts.middleware.CognitoSessionMiddleware",
    # The core's errors (common.errors) as error pages: the portal's one mapping of them.
    "portal.errors.DomainErrorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Each instance keeps only a cache of users (keyed by the Cognito sub) in its own SQLite
# file; sessions live in DynamoDB, so no state is shared through the database.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DJANGO_DB_PATH", str(BASE_DIR / ".local" / "portal.sqlite3")),
        # Sign-ins at once (threads, gunicorn workers) each write the user row: a transaction
        # that starts reading and then writes gets "database is locked" at once, a 500; one
        # that takes the write lock first waits its turn (Django's advice for SQLite).
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

SESSION_ENGINE = "accounts.sessions"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.CognitoBackend"]
SESSION_COOKIE_AGE = 60 * 60 * 12
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]  # the portal's own: favicon, API docs
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads through the portal: the core enforces IMAGE_MAX_BYTES on the bytes themselves.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Content-Security-Policy on every page (django-csp; Django 5.2 has none of its own): scripts,
# styles, fonts and requests from the portal only, so no inline script or style attribute;
# images also from the images domain (IMAGES_BASE_URL) and blob: (the add page's previews).
_IMAGES_SOURCE = get_config().images_base_url + "/"
# The add page posts files straight to the bucket (presigned POST): the emulator locally, the
# bucket's S3 endpoints in AWS (boto3 names the global one in us-east-1, else the regional one).
_config = get_config()
_STORAGE_SOURCES = [_config.aws_endpoint_url] if _config.aws_endpoint_url else [
    f"https://{_config.images_bucket}.s3.amazonaws.com",
    f"https://{_config.images_bucket}.s3.{_config.aws_region}.amazonaws.com",
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, _IMAGES_SOURCE, "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF, *_STORAGE_SOURCES],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One JSON object a line with the request's id (portal/logs.py), as the Lambdas log.
    "formatters": {"json": {"()": "aws_lambda_powertools.logging.formatter.LambdaPowertoolsFormatter",
                            "service": "image-manager-portal"}},
    "filters": {"request_id": {"()": "portal.logs.RequestIdFilter"},
                "expected_refusal": {"()": "portal.logs.ExpectedRefusalFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # boto's INFO lines (where it found credentials, endpoints) and PynamoDB's "Override
    # settings for pynamo not available" are noise in every command.
    "loggers": {**{name: {"level": "WARNING"} for name in ("botocore", "boto3", "urllib3", "pynamodb.settings")},
                "django.request": {"filters": ["expected_refusal"]}},
}
