"""Verify Cognito ID tokens as AWS documents: RS256 signature by a key of the pool's JWKS
(found by `kid`, refetched once when an unknown `kid` appears, so key rotation works),
`iss` = the pool, `aud` = the app client, `token_use` = "id", `exp` in the future. Django-free."""

from __future__ import annotations

import threading

import jwt

from common.config import get_config
from common.errors import NotAuthenticated

_clients: dict[str, jwt.PyJWKClient] = {}
_lock = threading.Lock()


def _jwks_client(url: str) -> jwt.PyJWKClient:
    with _lock:
        client = _clients.get(url)
        if client is None:
            # PyJWKClient caches the key set and refetches when it meets an unknown kid.
            client = _clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)
        return client


class InvalidToken(NotAuthenticated):
    code = "invalid_token"
    default_message = "The token is missing, invalid or expired."


def verify_id_token(token: str, *, leeway: int = 0) -> dict:
    """Return the claims of a valid ID token of this pool and client, or raise InvalidToken."""
    config = get_config()
    if not token:
        raise InvalidToken()
    try:
        key = _jwks_client(config.cognito_jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=config.cognito_client_id,
            issuer=config.cognito_issuer,
            leeway=leeway,
            options={"require": ["exp", "iss", "aud", "sub", "token_use"]},
        )
    except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
        raise InvalidToken() from exc
    if claims.get("token_use") != "id":
        raise InvalidToken()
    return claims


def bearer_token(header: str | None) -> str:
    """The token of an Authorization header, bare or "Bearer <token>" (as API Gateway takes it)."""
    value = (header or "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value
