"""Reading Cognito ID-token claims the same way on both faces. Django-free."""

from __future__ import annotations


def groups(claims: dict) -> list[str]:
    """The token's `cognito:groups`: a list in a decoded token; API Gateway's authorizer hands
    Lambda a flattened string, "[a b]" or "a,b"."""
    value = claims.get("cognito:groups") or []
    if isinstance(value, str):
        return value.strip("[]").replace(",", " ").split()
    return [str(g) for g in value]
