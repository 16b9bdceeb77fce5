"""Exports off the request path: a POST records a job and starts it on a background thread of
this process, the person watches its progress page, then downloads the finished file from
S3 through a presigned link. No request waits for the export (images/export_jobs.py)."""

from __future__ import annotations

import threading

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from common import errors
from images import catalog, export_jobs, storage
from images.identity import actor_for
from images.views.common import safe_next, wants_json

# Seconds between reloads of the progress page while the export is built (no script needed).
REFRESH_SECONDS = 2


def run_in_background(job_id: str) -> None:
    """Build the export on a daemon thread: the worker answers at once and stays free for other
    requests (a sync gunicorn worker keeps its heartbeat while the thread runs)."""
    threading.Thread(target=export_jobs.job_run, args=(job_id,), name=f"export-{job_id}", daemon=True).start()


def start(request, *, kind: str, ids: list[str] | None = None, key: str = "", value: str = "",
          criteria: dict[str, str] | None = None):
    """Record an export job, start it, and send the person to its progress page."""
    try:
        job = export_jobs.job_start(owner=actor_for(request.user), kind=kind, ids=ids, key=key, value=value,
                                    criteria=criteria)
    except catalog.InvalidField as exc:
        messages.error(request, f"The export was not started: {exc.message}")
        return HttpResponseRedirect(safe_next(request, reverse("images:list")))
    run_in_background(job.id)
    return redirect("images:export", job_id=job.id)


@login_required
@require_POST
def export_start(request):
    """Export every image of the list's current search and filters (or of the whole catalog)."""
    criteria = {name: request.POST[name] for name in catalog.QUERY_PARAMS if request.POST.get(name)}
    return start(request, kind=request.POST.get("kind", ""), key=request.POST.get("key", ""),
                 value=request.POST.get("value", ""), criteria=criteria or None)


def _job(request, job_id: str):
    try:
        return export_jobs.job_get(owner=actor_for(request.user), job_id=job_id)
    except errors.NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_GET
@never_cache
def export_detail(request, job_id: str):
    """The export's progress; its download link once it is ready."""
    job = _job(request, job_id)
    download = reverse("images:export_download", args=[job.id]) if job.state == export_jobs.DONE else None
    if wants_json(request):
        return JsonResponse({"state": job.state, "done": int(job.done_count or 0),
                             "total": int(job.total) if job.total is not None else None,
                             "filename": job.filename, "download_url": download, "error": job.error or ""})
    busy = job.state in (export_jobs.QUEUED, export_jobs.RUNNING)
    return render(request, "images/export_detail.html", {
        "job": job, "busy": busy, "download_url": download, "refresh": REFRESH_SECONDS if busy else None,
    })


@login_required
@require_GET
@never_cache
def export_download(request, job_id: str):
    """Redirect to a short-lived S3 URL of the finished file (saved under its own name)."""
    job = _job(request, job_id)
    if job.state != export_jobs.DONE or not job.object_key:
        return redirect("images:export", job_id=job.id)
    return HttpResponseRedirect(storage.download_url(job.object_key, filename=job.filename,
                                                     content_type=export_jobs.KINDS[job.kind][0]))
