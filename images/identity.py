"""Who the signed-in person is, in the catalog's terms."""

from __future__ import annotations

from images.catalog import Actor


def actor_for(user) -> Actor:
    """The catalog Actor for a signed-in portal user (accounts.User: pk is the Cognito sub)."""
    sub = getattr(user, "sub", None) or str(user.pk)
    return Actor(sub=str(sub), username=user.get_username(), is_staff=bool(user.is_staff), face="portal")
