"""Configuration from environment variables, parsed once; the same names in Terraform,
Beanstalk, the local stack and tests. Django-free: the Lambda package imports it."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Config:
    """Settings of the Django-free core."""

    aws_region: str
    # Only set locally (the emulator); unset in AWS so boto3 and PynamoDB use the real endpoints.
    aws_endpoint_url: str | None
    images_table: str
    image_terms_table: str
    sessions_table: str
    # One entry per change of an image (images.records.ImageHistory).
    history_table: str
    # Powertools' idempotency records: a retried POST /images is one image.
    idempotency_table: str
    # Failed sign-in counters (accounts.records.SignInAttempts), shared by every instance.
    signin_attempts_table: str
    # Export jobs of the portal (images.export_jobs.ExportJob).
    exports_table: str
    images_bucket: str
    # Public base URL of the image objects: the CloudFront domain in production.
    images_base_url: str
    # The distribution in front of the images, whose cache a delete or a replacement
    # invalidates; unset locally (the emulator caches nothing).
    cloudfront_distribution_id: str | None
    # Signs list cursors (HMAC). In AWS: CURSOR_SECRET_ARN names a Secrets Manager secret,
    # read once per process; locally and in tests CURSOR_SECRET (a development value by default).
    cursor_secret: str
    cursor_secret_arn: str | None
    cognito_user_pool_id: str
    cognito_client_id: str
    cognito_jwks_url: str
    cognito_staff_group: str
    # POST /users leaves users unconfirmed until they enter the emailed code; false opts in to
    # the seed's instant sign-up, confirmed by the PreSignUp trigger (accounts/triggers.py).
    api_signup_requires_confirmation: bool
    image_max_bytes: int
    image_max_pixels: int
    # Sign-in rate limit (accounts/throttle.py): failures allowed in a window per (username,
    # address), per username (from anywhere) and per address (any usernames: an office).
    signin_max_failures_per_pair: int
    signin_max_failures_per_user: int
    signin_max_failures_per_address: int
    signin_window_seconds: int
    # Proxies in front of the portal that append to X-Forwarded-For (1 behind the ALB).
    trusted_proxy_hops: int
    # The scheduled sweep (images.maintenance): leave unreferenced objects younger than this
    # alone (a write in flight puts its objects before its record), and whether to repair.
    sweep_grace_minutes: int
    sweep_repair: bool
    # Days an image stays in the trash before the sweep purges it for good.
    trash_retention_days: int

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.cognito_user_pool_id}"


@functools.cache
def get_config() -> Config:
    """Read the configuration from the environment, once (tests call get_config.cache_clear())."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    bucket = os.environ.get("IMAGES_BUCKET", "image-manager-images")
    pool_id = os.environ.get("COGNITO_USER_POOL_ID", "")
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    default_jwks = f"{endpoint}/{pool_id}/.well-known/jwks.json" if endpoint else f"{issuer}/.well-known/jwks.json"
    default_base = f"{endpoint}/{bucket}" if endpoint else f"https://{bucket}.s3.{region}.amazonaws.com"
    return Config(
        aws_region=region,
        aws_endpoint_url=endpoint,
        images_table=os.environ.get("IMAGES_TABLE", "image-manager-images"),
        image_terms_table=os.environ.get("IMAGE_TERMS_TABLE", "image-manager-image-terms"),
        sessions_table=os.environ.get("SESSIONS_TABLE", "image-manager-sessions"),
        history_table=os.environ.get("HISTORY_TABLE", "image-manager-image-history"),
        idempotency_table=os.environ.get("IDEMPOTENCY_TABLE", "image-manager-idempotency"),
        signin_attempts_table=os.environ.get("SIGNIN_ATTEMPTS_TABLE", "image-manager-signin-attempts"),
        exports_table=os.environ.get("EXPORTS_TABLE", "image-manager-exports"),
        images_bucket=bucket,
        images_base_url=os.environ.get("IMAGES_BASE_URL", default_base).rstrip("/"),
        cloudfront_distribution_id=os.environ.get("CLOUDFRONT_DISTRIBUTION_ID") or None,
        cursor_secret=os.environ.get("CURSOR_SECRET", "local-development-cursor-secret"),
        cursor_secret_arn=os.environ.get("CURSOR_SECRET_ARN") or None,
        cognito_user_pool_id=pool_id,
        cognito_client_id=os.environ.get("COGNITO_CLIENT_ID", ""),
        cognito_jwks_url=os.environ.get("COGNITO_JWKS_URL", default_jwks),
        cognito_staff_group=os.environ.get("COGNITO_STAFF_GROUP", "staff"),
        api_signup_requires_confirmation=_bool("API_SIGNUP_REQUIRES_CONFIRMATION", True),
        # Photographers' scans and panoramas: files of 200 MB come straight to S3 (presigned).
        image_max_bytes=_int("IMAGE_MAX_BYTES", 200 * 1024 * 1024),
        image_max_pixels=_int("IMAGE_MAX_PIXELS", 50_000_000),
        signin_max_failures_per_pair=_int("SIGNIN_MAX_FAILURES_PER_PAIR", 5),
        signin_max_failures_per_user=_int("SIGNIN_MAX_FAILURES_PER_USER", 20),
        signin_max_failures_per_address=_int("SIGNIN_MAX_FAILURES_PER_ADDRESS", 100),
        signin_window_seconds=_int("SIGNIN_WINDOW_SECONDS", 15 * 60),
        trusted_proxy_hops=_int("TRUSTED_PROXY_HOPS", 0),
        sweep_grace_minutes=_int("SWEEP_GRACE_MINUTES", 60),
        sweep_repair=_bool("SWEEP_REPAIR", True),
        trash_retention_days=_int("TRASH_RETENTION_DAYS", 30),
    )

