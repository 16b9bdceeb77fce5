"""manage.py disable_user <username>: disable a Cognito user and end all of its sessions."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts import cognito
from accounts.views import end_every_session
from common.errors import AppError


class Command(BaseCommand):
    help = ("Disable a user in the Cognito user pool: no more sign-ins, every refresh token revoked, "
            "every portal session ended at its next request.")

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        try:
            cognito.admin_disable_user(username)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        end_every_session(username)
        self.stdout.write(f"Disabled {username} and ended its sessions.")
