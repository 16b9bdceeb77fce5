"""django-storages on the portal side: presigned downloads of the bucket's objects whose
answer carries the headers the portal chooses (`Content-Disposition: attachment` with the
original file name, RFC 6266). Never a second writer of image objects: images.objects
(Django-free, shared with the Lambda handlers) owns the key scheme and every write.

Downloads are signed for S3 itself, not for the CloudFront domain that serves the public
image URLs: S3 honours response-content-disposition only on a signed request, and
S3Storage signs a custom-domain URL only with a CloudFront key pair (`cloudfront_signer`),
which would need a trusted key group and a private key in the portal, and would let any
holder of a signed URL set response headers on the images domain. A presigned S3 URL lives
DOWNLOAD_EXPIRES seconds and names one object.
"""

from __future__ import annotations

from storages.backends.s3 import S3Storage

from common.config import get_config
from images.filenames import content_disposition

DOWNLOAD_EXPIRES = 300


def images_storage() -> S3Storage:
    """The images bucket as a Django storage, for the current configuration. Made per use:
    a signature is a local computation, and a cached client would outlive the configuration
    (and the botocore event hooks) it was made with."""
    config = get_config()
    return S3Storage(
        bucket_name=config.images_bucket,
        region_name=config.aws_region,
        endpoint_url=config.aws_endpoint_url,
        signature_version="s3v4",
        querystring_auth=True,
        querystring_expire=DOWNLOAD_EXPIRES,
        custom_domain=None,
        default_acl=None,
        file_overwrite=False,
    )


def download_url(key: str, *, filename: str, content_type: str | None = None) -> str:
    """A short-lived URL whose answer saves the object as `filename` (non-ASCII included)."""
    parameters = {"ResponseContentDisposition": content_disposition(filename)}
    if content_type:
        parameters["ResponseContentType"] = content_type
    return images_storage().url(key, parameters=parameters, expire=DOWNLOAD_EXPIRES)
