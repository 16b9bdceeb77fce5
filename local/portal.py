"""The portal for `make run` and the end-to-end tests: Django's development server without
its start-up banner and development-server warning (`make run` prints the URLs itself) and
without a second round of system checks (`migrate` has just run them, and says what fails).

Run: python -m local.portal --noreload 127.0.0.1:8000
"""

from __future__ import annotations

import os
import sys

import django
from django.core.management.commands import runserver


from local import call_log


class QuietRunserver(runserver.Command):
    def on_bind(self, server_port):
        """Say nothing when listening: the caller says where the portal is."""

    def get_handler(self, *args, **options):
        """Django's handler; each request names its page in the recorded AWS calls."""
        return call_log.wrap_wsgi(super().get_handler(*args, **options))


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    call_log.install()  # with AWS_CALL_LOG set (end-to-end tests): record as the instance role
    django.setup()
    QuietRunserver().run_from_argv(["manage.py", "runserver", "--skip-checks", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
