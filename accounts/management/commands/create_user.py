"""manage.py create_user <username> --email ... [--password ... | prompt] [--staff]"""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from accounts import cognito
from accounts.pool import PASSWORD_RULES_TEXT
from common.errors import AppError


class Command(BaseCommand):
    help = "Create a confirmed user in the Cognito user pool (optionally staff), e.g. for the first sign-in."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="the password; asked for (twice) when left out")
        parser.add_argument("--staff", action="store_true", help="add the user to the staff group")

    def handle(self, *args, username: str, email: str, password: str | None, staff: bool, **options):
        if password is None:
            self.stdout.write(PASSWORD_RULES_TEXT)
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords didn't match.")
        try:
            sub = cognito.admin_create_user(username, email, password, staff=staff)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        role = "staff user" if staff else "user"
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username} (sub {sub})."))
