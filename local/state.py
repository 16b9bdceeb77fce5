"""Save and restore the emulator's state (moto keeps everything in memory) and its mailbox.

The whole state of the services we use is pickled in one go, under the emulator's request
lock so it is consistent, then written to a temporary file that is fsynced and renamed over
the previous file: a crash while saving leaves the previous good state in place.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.s3.models import s3_backends

from local import mailbox

BACKENDS = {"s3": s3_backends, "dynamodb": dynamodb_backends, "cognito-idp": cognitoidp_backends}
FORMAT = 1


def _load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(pem, password=None)


class _Pickler(pickle.Pickler):
    """Pickle moto's backends; the Cognito pools' RSA keys travel as PEM."""

    def reducer_override(self, obj):
        if isinstance(obj, rsa.RSAPrivateKey):
            pem = obj.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            return _load_private_key, (pem,)
        return NotImplemented


def snapshot() -> bytes:
    """Serialise the current state (call with the request lock held)."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
        {"format": FORMAT, "backends": {name: dict(backend) for name, backend in BACKENDS.items()},
         "mailbox": mailbox.messages()}
    )
    return buffer.getvalue()


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see either the old or the new file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load(data: bytes) -> None:
    """Replace moto's backends and the mailbox with a snapshot."""
    saved = pickle.loads(data)  # nosec B301 - the local emulator's own snapshot file (.local/), written by save(); never deployed
    if saved.get("format") != FORMAT:
        raise RuntimeError("the state was saved by another version of the emulator; remove it to start afresh")
    for name, backend in BACKENDS.items():
        backend.clear()
        backend.update(saved["backends"].get(name, {}))
    mailbox.replace(saved.get("mailbox", []))  # absent in states saved before it was kept


def restore(path: Path) -> bool:
    """Load a saved state file into moto's backends; False when there is none."""
    if not path.exists():
        return False
    load(path.read_bytes())
    return True
