"""The Lambdas' logs: one JSON object a line (Powertools for AWS Lambda's Logger) with the
request's ids on every line, for the core packages' own loggers too. Django-free.

What is logged is chosen so that nothing secret is: never a body, a header, a token, a
password, a code or image bytes; the outcome of a request is its status, error class and
the message the client was given."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar, Token

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

PACKAGES = ("common", "images", "accounts")


class _Stdout:
    """Whatever sys.stdout is when a line is written (Lambda's, or a test's capture)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


logger = Logger(service="image-manager-api", stream=_Stdout())
for _name in PACKAGES:
    logging.getLogger(_name)  # registered, so their children (images.api, ...) log through it
copy_config_to_registered_loggers(source_logger=logger, include=set(PACKAGES))


def refused(status: int, error: str, reason: str, figures: dict | None = None) -> None:
    """Log a refused request as loud as it deserves: a denial (401, 403, 429) is a warning
    someone may want to look at; bad input, not found and a conflict (someone else saved
    first) are the API working as documented (info); a 5xx is an error."""
    if status >= 500:
        method = logger.error
    elif status in (401, 403, 429):
        method = logger.warning
    else:
        method = logger.info
    method("refused", extra={"status": status, "error": error, "reason": reason, **(figures or {})})


# Figures a request adds up as it runs (DynamoDB calls and capacity: images.catalog.capacity),
# logged on its "answered" or "refused" line; and what to run as a request starts (the meter
# watching the clients made since).
REQUEST_HOOKS: list[Callable[[], None]] = []
_figures: ContextVar[dict | None] = ContextVar("request_figures", default=None)


def add_figures(**amounts: float) -> None:
    """Add to the current request's figures (nothing outside a request)."""
    figures = _figures.get()
    if figures is not None:
        for name, amount in amounts.items():
            figures[name] = round(figures.get(name, 0) + amount, 3)


def begin_figures() -> tuple[dict, Token]:
    """Start one request's figures from nothing; give end_figures the token."""
    for hook in REQUEST_HOOKS:
        hook()
    figures: dict = {}
    return figures, _figures.set(figures)


def end_figures(token: Token) -> None:
    """End the request's figures."""
    _figures.reset(token)
