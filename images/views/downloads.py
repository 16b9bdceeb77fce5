"""Downloads: an image's original file under the name it was sent with."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from images import storage
from images.filenames import record_download_name
from images.views.common import load


@login_required
@require_GET
@never_cache
def image_download(request, image_id: str):
    """Redirect to a short-lived S3 URL answered with `Content-Disposition: attachment` and the
    original name: the bytes go from S3 to the browser, never through the portal."""
    record = load(image_id)
    url = storage.download_url(record.object_key, filename=record_download_name(record),
                               content_type=record.content_type)
    return HttpResponseRedirect(url)
