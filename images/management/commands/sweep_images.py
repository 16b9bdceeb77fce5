"""manage.py sweep_images [--repair] [--grace-minutes 60] [--retention-days N]: report, then repair,
leftovers and facet counts; with --repair, purge what has been in the trash longer than N days."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from common.config import get_config
from images.sweep import sweep


class Command(BaseCommand):
    help = ("Find objects no image points at, unfinished clean-ups of removed files, images whose file is missing and "
            "facet counts that differ from the images; with --repair, delete the orphans, finish the "
            "replacements, recount the facets and purge images in the trash past the retention period.")

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Delete orphans, finish replacements, recount facets.")
        parser.add_argument("--grace-minutes", type=int, default=60,
                            help="Leave unreferenced objects younger than this alone (a write may be in flight).")
        parser.add_argument("--retention-days", type=int, default=None,
                            help="With --repair, purge images deleted longer ago than this "
                                 "(default TRASH_RETENTION_DAYS, 30).")

    def handle(self, *args, repair: bool, grace_minutes: int, retention_days: int | None, **options):
        if retention_days is None:
            retention_days = get_config().trash_retention_days
        report = sweep(repair=repair, grace=timedelta(minutes=grace_minutes), retention_days=retention_days)
        for line in report.lines():
            self.stdout.write(line)
        if report.clean or (repair and not report.failures and not report.missing_files):
            self.stdout.write(self.style.SUCCESS("Nothing left to repair." if repair else "Nothing to repair."))
        elif not repair:
            self.stdout.write(self.style.WARNING("Run again with --repair to fix what can be fixed."))
        if report.failures or report.missing_files:
            self.stderr.write(f"{len(report.failures)} failures, {len(report.missing_files)} missing files "
                              "(missing files need the image re-uploaded or deleted).")
