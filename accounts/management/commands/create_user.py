"""manage.py create_user <username> --email ... [--password-stdin | $CREATE_USER_PASSWORD | prompt] [--staff]

Scripts pipe the password (`printf '%s\\n' "$PW" | manage.py create_user ... --password-stdin`)
or set CREATE_USER_PASSWORD; only a terminal is asked for it. Without a terminal and
without a source the command stops with one line saying so (a CommandError: exit 1).
"""

from __future__ import annotations

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts import cognito
from accounts.pool import PASSWORD_RULES_TEXT
from common.errors import AppError

PASSWORD_ENV = "CREATE_USER_PASSWORD"
NO_SOURCE = (
    f"No password given and no terminal to ask on: pipe it with --password-stdin or set {PASSWORD_ENV}."
)


class Command(BaseCommand):
    help = "Create a confirmed user in the Cognito user pool (optionally staff), e.g. for the first sign-in."
    stealth_options = ("stdin",)  # call_command(..., stdin=io.StringIO(...)) in tests

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
        source.add_argument("--password", help=f"the password (visible to other local users: prefer "
                                               f"--password-stdin or {PASSWORD_ENV})")
        parser.add_argument("--staff", action="store_true", help="add the user to the staff group")

    def handle(self, *args, username: str, email: str, password: str | None, password_stdin: bool,
               staff: bool, **options):
        password = self._password(password, password_stdin, options.get("stdin") or sys.stdin)
        try:
            sub = cognito.admin_create_user(username, email, password, staff=staff)
        except AppError as exc:
            raise CommandError(exc.message) from exc
        role = "staff user" if staff else "user"
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username} (sub {sub})."))

    def _password(self, given: str | None, from_stdin: bool, stdin) -> str:
        """The password from the first source that has one: option, stdin, environment, prompt."""
        if from_stdin:
            given = stdin.readline().rstrip("\r\n")
            if not given:
                raise CommandError("--password-stdin: standard input had no password on its first line.")
        given = given or os.environ.get(PASSWORD_ENV)
        if given:
            return given
        if not (stdin is not None and stdin.isatty()):
            raise CommandError(NO_SOURCE)
        self.stdout.write(PASSWORD_RULES_TEXT)
        try:
            password = getpass.getpass("Password: ")
            again = getpass.getpass("Password (again): ")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("No password entered.") from None
        if password != again:
            raise CommandError("The two passwords didn't match.")
        return password
