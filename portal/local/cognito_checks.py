"""Make moto's Cognito check passwords in the SRP flow the way Cognito does.

Stock moto answers USER_SRP_AUTH with random SALT/SRP_B and accepts any
PASSWORD_CLAIM_SIGNATURE. Moto keeps each password in plain text, so here the server side
of SRP-6a (Cognito's variant, as pycognito's client implements it) derives the verifier,
and a wrong password gets NotAuthorizedException. install() patches moto's backend class,
so it works in the emulator process and in the in-process mock_aws of unit tests alike.
Relies on moto internals: moto is pinned in requirements/dev.txt.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets

from moto.cognitoidp import models as cognito_models
from moto.cognitoidp.exceptions import NotAuthorizedError
from pycognito.aws_srp import G_HEX, N_HEX, compute_hkdf, hash_sha256, hex_hash, hex_to_long, long_to_hex, pad_hex

N = hex_to_long(N_HEX)
G = hex_to_long(G_HEX)
K = hex_to_long(hex_hash("00" + N_HEX + "0" + G_HEX))

Backend = cognito_models.CognitoIdpBackend
_original_initiate_auth = Backend.initiate_auth
_original_respond = Backend.respond_to_auth_challenge
# Cognito refuses a PASSWORD_VERIFIER answer whose TIMESTAMP is far from its clock.
_MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)


def _pool_name(pool_id: str) -> str:
    return pool_id.split("_", 1)[1]


def _x(pool_id: str, user_id_for_srp: str, password: str, salt_hex: str) -> int:
    inner = hash_sha256(f"{_pool_name(pool_id)}{user_id_for_srp}:{password}".encode())
    return hex_to_long(hex_hash(pad_hex(salt_hex) + inner))


def _expected_signature(state: dict, password: str, secret_block: str, timestamp: str) -> str:
    x = _x(state["pool_id"], state["user_id"], password, state["salt"])
    v = pow(G, x, N)
    a, b, big_b = state["A"], state["b"], state["B"]
    u = hex_to_long(hex_hash(pad_hex(a) + pad_hex(big_b)))
    s = pow(a * pow(v, u, N), b, N)
    key = compute_hkdf(bytearray.fromhex(pad_hex(s)), bytearray.fromhex(pad_hex(long_to_hex(u))))
    msg = (
        _pool_name(state["pool_id"]).encode()
        + state["user_id"].encode()
        + base64.standard_b64decode(secret_block)
        + timestamp.encode()
    )
    return base64.standard_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def _timestamp_ok(timestamp: str) -> bool:
    # Cognito's format, e.g. "Tue Nov 24 18:47:39 UTC 2026" (day without leading zero).
    try:
        when = datetime.datetime.strptime(timestamp, "%a %b %d %H:%M:%S UTC %Y")
    except ValueError:
        return False
    now = datetime.datetime.utcnow()
    return abs(now - when) <= _MAX_CLOCK_SKEW


def initiate_auth(self, client_id, auth_flow, auth_parameters):
    """Answer USER_SRP_AUTH with a real salt and B derived from the user's password."""
    result = _original_initiate_auth(self, client_id, auth_flow, auth_parameters)
    if auth_flow != "USER_SRP_AUTH" or result.get("ChallengeName") != "PASSWORD_VERIFIER":
        return result
    a = hex_to_long(auth_parameters["SRP_A"])
    if a % N == 0:
        raise NotAuthorizedError("Incorrect username or password.")
    username, pool = self.sessions.pop(result["Session"])
    user = self.admin_get_user(pool.id, username)
    salt = secrets.token_hex(16)
    b = secrets.randbelow(N - 2) + 1
    v = pow(G, _x(pool.id, user.username, user.password or "", salt), N)
    big_b = (K * v + pow(G, b, N)) % N
    secret_block = base64.standard_b64encode(secrets.token_bytes(64)).decode()
    # moto finds the session of a PASSWORD_VERIFIER answer by its secret block.
    self.sessions[secret_block] = (username, pool)
    if not hasattr(self, "srp_states"):
        self.srp_states = {}
    self.srp_states[secret_block] = {
        "pool_id": pool.id, "user_id": user.username, "salt": salt, "A": a, "b": b, "B": big_b,
    }
    result["Session"] = secret_block
    result["ChallengeParameters"].update(
        SALT=salt,
        SRP_B=long_to_hex(big_b),
        USERNAME=user.username,
        USER_ID_FOR_SRP=user.username,
        SECRET_BLOCK=secret_block,
    )
    return result


def respond_to_auth_challenge(self, session, client_id, challenge_name, challenge_responses):
    """Check the PASSWORD_CLAIM_SIGNATURE against the user's password before moto's answer."""
    if challenge_name == "PASSWORD_VERIFIER":
        secret_block = challenge_responses.get("PASSWORD_CLAIM_SECRET_BLOCK") or ""
        state = getattr(self, "srp_states", {}).pop(secret_block, None)
        if state is None or secret_block not in self.sessions:
            raise NotAuthorizedError("Incorrect username or password.")
        username, pool = self.sessions[secret_block]
        user = self.admin_get_user(pool.id, username)
        timestamp = challenge_responses.get("TIMESTAMP") or ""
        signature = challenge_responses.get("PASSWORD_CLAIM_SIGNATURE") or ""
        expected = _expected_signature(state, user.password or "", secret_block, timestamp)
        if not _timestamp_ok(timestamp) or not hmac.compare_digest(signature, expected):
            del self.sessions[secret_block]
            raise NotAuthorizedError("Incorrect username or password.")
    return _original_respond(self, session, client_id, challenge_name, challenge_responses)


def install() -> None:
    """Patch moto's Cognito backend (idempotent)."""
    Backend.initiate_auth = initiate_auth
    Backend.respond_to_auth_challenge = respond_to_auth_challenge
