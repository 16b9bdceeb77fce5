"""What a username may be: NFKC-normalised, case-folded, and then only ASCII letters, digits
and . _ @ + - (1 to 128). Look-alikes (full-width "ＤＥＭＯ", Cyrillic "dеmo") would show as
creator and history actor exactly like the name they imitate. Django-free."""

from __future__ import annotations

import re
import unicodedata

from common.errors import InvalidInput

USERNAME_RULES = "1 to 128 characters: ASCII letters, digits and @ . + - _ only (stored in lower case)."
# After normalising: lower-case ASCII only (\w would take any script's letters).
_ALLOWED = re.compile(r"[a-z0-9@.+_-]{1,128}\Z")


def normalise(username: str) -> str:
    """The name as it is stored and compared: NFKC (full-width to ASCII, ligatures split), case-folded."""
    return unicodedata.normalize("NFKC", username).casefold()


def new_username(username: str) -> str:
    """The normalised name for a new user, or InvalidInput when it falls outside the set."""
    name = normalise(username) if isinstance(username, str) else ""
    # Refused, not quietly mapped, when normalising changes more than case: "ＤＥＭＯ" is not "demo".
    if not _ALLOWED.match(name) or name != username.lower():
        raise InvalidInput(f"The username must have {USERNAME_RULES}")
    return name


def sign_in_name(username: str) -> str:
    """The name to sign in with: normalised when that fits the set (the pool is case-insensitive,
    so existing users sign in as before), else as typed (a name made before the rule)."""
    name = normalise(username)
    return name if _ALLOWED.match(name) else username


def is_new_username(username: str) -> bool:
    """Tell whether a new user may have this name exactly as given (normalised, in the set)."""
    try:
        return new_username(username) == username
    except InvalidInput:
        return False
