"""The scheduled repair: EventBridge runs the sweep (images.sweep) on a schedule, so what a
crash between S3 and DynamoDB left behind (orphan objects, removed files not yet cleaned up,
facet counts off) is repaired without an operator. Django-free: it ships in the Lambda zip.

Settings come from the environment through common.config, parsed once per container:
SWEEP_GRACE_MINUTES (default 60), SWEEP_REPAIR (default true; false only reports) and
TRASH_RETENTION_DAYS (default 30: images in the trash longer than that are purged for good).

Findings never make the function fail: they are the summary it logs (one JSON line) and
returns. Only an error of the sweep itself (AWS refusing a scan, say) raises, so Lambda's
Errors metric counts broken runs, not repaired ones.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from common.config import get_config
from images.sweep import SweepReport, sweep

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)  # the summary is this function's output; Lambda's root logger stays at WARNING

# Details (keys, ids, failure messages) kept in the summary per kind; the counts are complete.
DETAIL_LIMIT = 20


def summarize(report: SweepReport, *, repair: bool, grace_minutes: int) -> dict[str, Any]:
    """Counts per finding kind, and the details an operator must act on."""
    counts = {
        "orphan_objects": len(report.orphan_objects),
        "recent_objects": len(report.recent_objects),
        "pending_cleanups": len(report.pending_cleanups),
        "missing_files": len(report.missing_files),
        # After a repair, only the differences that were not recounted are left here.
        "facet_differences": len(report.facet_differences),
        "deleted": len(report.deleted),
        "finished": len(report.finished),
        "recounted": len(report.recounted),
        "failures": len(report.failures),
        "purged": len(report.purged),
    }
    if repair:
        # Orphans, replacements and counts were repaired; missing files and failures need a person.
        needs_attention = bool(report.missing_files or report.failures)
    else:
        needs_attention = not report.clean
    return {
        "event": "image_sweep",
        "repair": repair,
        "grace_minutes": grace_minutes,
        "needs_attention": needs_attention,
        "counts": counts,
        "missing_files": [{"image_id": i, "key": k} for i, k in report.missing_files[:DETAIL_LIMIT]],
        "failures": report.failures[:DETAIL_LIMIT],
    }


def run() -> dict[str, Any]:
    """Sweep with the configured grace period (and repair), log the summary, return it."""
    config = get_config()
    report = sweep(repair=config.sweep_repair, grace=timedelta(minutes=config.sweep_grace_minutes),
                   retention_days=config.trash_retention_days)
    summary = summarize(report, repair=config.sweep_repair, grace_minutes=config.sweep_grace_minutes)
    line = json.dumps(summary, sort_keys=True, separators=(",", ":"))
    if summary["needs_attention"]:
        log.warning(line)
    else:
        log.info(line)
    return summary


def lambda_handler(event: dict, context: Any = None) -> dict[str, Any]:
    return run()  # the scheduled event carries nothing the sweep needs
