"""manage.py reindex_search: rewrite the search postings in the form search reads now (accents
folded), then run `manage.py sweep_images --repair` to recount the counters."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from images.reindex import reindex_search


class Command(BaseCommand):
    help = ("Write every listed image's search postings as search reads them now (accents and case folded) and "
            "delete the old ones; then run sweep_images --repair to recount the counters.")

    def handle(self, *args, **options):
        report = reindex_search()
        self.stdout.write(f"{report.images} images: {report.written} postings put, "
                          f"{report.deleted} old-form ones deleted. Now run: manage.py sweep_images --repair")
