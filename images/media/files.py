"""The files verification works on, read a range at a time so that memory never holds a whole
file: a seekable binary file (an upload spooled to disk, or a request's bytes wrapped in
BytesIO), and a cleaned copy that is a view of the source's kept ranges plus the few pieces
that were rewritten, never a second copy of the pixels. Django-free."""

from __future__ import annotations

import bisect
import hashlib
import io
import re
from collections.abc import Iterator
from typing import BinaryIO, Union

# An edit plan: the cleaned file, in order, as ranges (start, end) of the source and new bytes.
Piece = Union[tuple[int, int], bytes]
Plan = list[Piece]

CHUNK = 1 << 20  # hashing, scanning and copying hold one such read at a time


def as_file(data: bytes | BinaryIO) -> BinaryIO:
    """A request body's bytes wrapped as a file; a file as it is."""
    return io.BytesIO(data) if isinstance(data, bytes) else data


def size_of(f: BinaryIO) -> int:
    return f.seek(0, io.SEEK_END)


def read_at(f: BinaryIO, start: int, end: int) -> bytes:
    """Bytes start..end of the file (fewer past its end, as a slice of bytes would be)."""
    f.seek(start)
    return f.read(max(0, end - start))


def byte_at(f: BinaryIO, pos: int) -> int:
    """One byte; IndexError past the end, as indexing bytes would raise."""
    found = read_at(f, pos, pos + 1)
    if not found:
        raise IndexError("read past the end of the file")
    return found[0]


def chunks(f: BinaryIO) -> Iterator[bytes]:
    """The whole file, CHUNK bytes at a time."""
    f.seek(0)
    while block := f.read(CHUNK):
        yield block


def sha256_of(f: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in chunks(f):
        digest.update(block)
    return digest.hexdigest()


def contains(f: BinaryIO, pattern: re.Pattern[bytes], overlap: int) -> bool:
    """Whether the pattern matches anywhere in the file. Each read is searched with the last
    `overlap` bytes of the one before (at least 1: the shortest match's length minus one), so a
    match that straddles two reads is found too."""
    tail = b""
    for block in chunks(f):
        window = tail + block
        if pattern.search(window):
            return True
        tail = window[-overlap:]
    return False


def piece_size(piece: Piece) -> int:
    return piece[1] - piece[0] if isinstance(piece, tuple) else len(piece)


def spliced(source: BinaryIO, plan: Plan) -> BinaryIO:
    """A read-only, seekable file made of the plan's pieces, reading the ranges from `source`
    when asked (so it is readable while `source` is open)."""
    return io.BufferedReader(_Spliced(source, plan), buffer_size=CHUNK)


class _Spliced(io.RawIOBase):
    def __init__(self, source: BinaryIO, plan: Plan):
        super().__init__()
        self._source = source
        self._pieces: list[Piece] = []
        self._offsets: list[int] = []  # where each piece starts in this file
        size = 0
        for piece in plan:
            if not piece_size(piece):
                continue
            last = self._pieces[-1] if self._pieces else None
            if isinstance(piece, tuple) and isinstance(last, tuple) and last[1] == piece[0]:
                self._pieces[-1] = (last[0], piece[1])  # adjacent ranges read as one
            else:
                self._pieces.append(piece)
                self._offsets.append(size)
            size += piece_size(piece)
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        index = bisect.bisect_right(self._offsets, self._pos) - 1
        piece, within = self._pieces[index], self._pos - self._offsets[index]
        out = memoryview(buffer).cast("B")[:piece_size(piece) - within]
        if isinstance(piece, bytes):
            out[:] = piece[within:within + len(out)]
            got = len(out)
        else:
            self._source.seek(piece[0] + within)
            got = self._source.readinto(out)
            if not got:
                raise OSError("the source file is shorter than its plan")
        self._pos += got
        return got
