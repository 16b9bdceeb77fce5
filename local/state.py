"""Save and restore the emulator's state (moto keeps everything in memory) and its mailbox.

The metadata of the services we use (DynamoDB items, Cognito pools, S3 buckets and object
headers) is pickled in one go, under the emulator's request lock so it is consistent, then
written to a temporary file that is fsynced and renamed over the previous file: a crash while
saving leaves the previous good state in place.

The bytes of each S3 object live in a file of their own beside it (`<state>-objects/`), written
once, when the object is first saved, and read from there afterwards: a save writes only the
objects new since the last one, and a start reads none, so neither grows with the bytes stored.
Files no saved state names any more (deleted objects, a crash between the two writes) are
removed after each save.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import threading
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.s3.models import FakeKey, s3_backends

from local import mailbox

BACKENDS = {"s3": s3_backends, "dynamodb": dynamodb_backends, "cognito-idp": cognitoidp_backends}
FORMAT = 2  # 1: every object's bytes inside the pickle (still read; saved as 2 from then on)
COPY_CHUNK = 1024 * 1024
_loading: threading.local = threading.local()  # the objects folder while a state is being loaded


def _load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(pem, password=None)


class DiskValue:
    """An S3 object's bytes in a file of its own, standing in for moto's in-memory buffer
    (moto only seeks, reads, writes, truncates and closes it); the file is open only while it
    is read or written, so thousands of objects hold no file descriptors."""

    def __init__(self, path: Path):
        self.path = path
        self.position = 0
        self.closed = False

    def _check(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")  # what moto expects of a deleted object

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.path.stat().st_size}[whence]
        self.position = base + offset
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        self._check()
        with open(self.path, "rb") as f:
            f.seek(self.position)
            data = f.read(size)
        self.position += len(data)
        return data

    def write(self, data: bytes) -> int:
        self._check()
        with open(self.path, "r+b") as f:
            f.seek(self.position)
            f.write(data)
        self.position += len(data)
        return len(data)

    def truncate(self, size: int | None = None) -> int:
        self._check()
        size = self.position if size is None else size
        with open(self.path, "r+b") as f:
            f.truncate(size)
        return size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True  # the file goes with the next save that no longer names it


def _restore_key(cls: type, state: dict, name: str | None) -> FakeKey:
    """A FakeKey as saved, its bytes read from its file when asked for."""
    key = cls.__new__(cls)
    key.__dict__.update(state)
    key.lock = threading.Lock()
    if name is None:  # an object deleted while still referenced (an old version): no bytes
        key._value_buffer = io.BytesIO()
    else:
        key._value_buffer = DiskValue(_loading.objects / name)
    return key


class Store:
    """The emulator's saved state: `path` (the metadata) and `<path stem>-objects/` (the bytes)."""

    def __init__(self, path: Path):
        self.path = path
        self.objects = path.with_name(f"{path.stem}-objects")

    def snapshot(self) -> tuple[bytes, set[str]]:
        """The metadata, serialised, and the object files it names (call with the request lock
        held). Objects not saved before are copied to their own files here, and read from them
        from then on."""
        self.objects.mkdir(parents=True, exist_ok=True)
        pickler = _Pickler(self)
        pickler.dump(_everything())
        return pickler.buffer.getvalue(), pickler.named

    def keep(self, key: FakeKey) -> str | None:
        """The name of the file holding the key's bytes, written now if it has none yet."""
        buffer = key._value_buffer
        if buffer.closed:
            return None
        if isinstance(buffer, DiskValue) and buffer.path.parent == self.objects:
            return buffer.path.name
        name = uuid.uuid4().hex
        path = self.objects / name
        with key.lock, open(path, "wb") as f:
            buffer.seek(0)
            shutil.copyfileobj(buffer, f, COPY_CHUNK)
            f.flush()
            os.fsync(f.fileno())
            key._value_buffer = DiskValue(path)
            buffer.close()
        return name

    def save(self, data: bytes, named: set[str]) -> None:
        """Write a snapshot, then remove the object files it does not name."""
        write_atomically(self.path, data)
        for path in self.objects.iterdir():
            if path.name not in named:
                path.unlink(missing_ok=True)

    def restore(self) -> bool:
        """Load the saved state into moto's backends; False when there is none."""
        if not self.path.exists():
            return False
        _loading.objects = self.objects
        try:
            load(self.path.read_bytes())
        finally:
            _loading.objects = None
        return True


def _everything() -> dict:
    return {"format": FORMAT, "backends": {name: dict(backend) for name, backend in BACKENDS.items()},
            "mailbox": mailbox.messages()}


def snapshot() -> bytes:
    """The whole state in memory, objects' bytes included (the tests' in-process copies)."""
    pickler = _Pickler(None)
    pickler.dump(_everything())
    return pickler.buffer.getvalue()


class _Pickler(pickle.Pickler):
    """Pickle moto's backends: the Cognito pools' RSA keys travel as PEM; with a store, S3
    objects as the name of the file holding their bytes (without, as moto pickles them)."""

    def __init__(self, store: Store | None):
        self.buffer = io.BytesIO()
        super().__init__(self.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self.store = store
        self.named: set[str] = set()

    def reducer_override(self, obj):
        if isinstance(obj, FakeKey) and self.store is not None:
            name = self.store.keep(obj)
            if name:
                self.named.add(name)
            state = {k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")}
            return _restore_key, (type(obj), state, name)
        if isinstance(obj, rsa.RSAPrivateKey):
            pem = obj.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            return _load_private_key, (pem,)
        return NotImplemented


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
    saved = pickle.loads(data)  # nosec B301 - the local emulator's own snapshot file (.local/), written by Store.save; never deployed
    if saved.get("format") not in (1, FORMAT):
        raise RuntimeError("the state was saved by another version of the emulator; remove it to start afresh")
    for name, backend in BACKENDS.items():
        backend.clear()
        backend.update(saved["backends"].get(name, {}))
    mailbox.replace(saved.get("mailbox", []))  # absent in states saved before it was kept
