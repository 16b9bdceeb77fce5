"""The emulator's saved state: metadata in one file, each S3 object's bytes in a file of its
own, written once; a restore reads no object's bytes until they are asked for; files of
deleted objects go with the next save; a state saved with the bytes inside still loads."""

from __future__ import annotations

import pickle

import boto3
import pytest
from moto import mock_aws

from local import state

BUCKET = "state-test"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def body(client, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def save(store: state.Store) -> set[str]:
    data, named = store.snapshot()
    store.save(data, named)
    return named


def test_object_bytes_are_files_written_once_and_read_when_asked(s3, tmp_path, monkeypatch):
    store = state.Store(tmp_path / "emulator-state.pickle")
    big = bytes(range(256)) * 4096  # 1 MiB
    s3.put_object(Bucket=BUCKET, Key="a", Body=big)
    s3.put_object(Bucket=BUCKET, Key="b", Body=b"small")
    first = save(store)
    assert len(first) == 2 and {p.name for p in store.objects.iterdir()} == first
    assert sorted(p.stat().st_size for p in store.objects.iterdir()) == [5, len(big)]
    assert store.path.stat().st_size < len(big) / 4  # the metadata does not hold the bytes

    written = []
    copy = state.shutil.copyfileobj
    monkeypatch.setattr(state.shutil, "copyfileobj", lambda *a: written.append(1) or copy(*a))
    s3.put_object(Bucket=BUCKET, Key="c", Body=b"new")
    s3.delete_object(Bucket=BUCKET, Key="b")
    second = save(store)
    assert len(written) == 1  # only the new object was copied
    assert len(second) == 2 and {p.name for p in store.objects.iterdir()} == second  # b's file is gone

    state.load(pickle.dumps({"format": state.FORMAT, "backends": {}}))  # moto emptied
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    assert store.restore()
    assert not [p for p in opened if str(p).startswith(str(store.objects))]  # no object read to start
    monkeypatch.setattr("builtins.open", real_open)
    assert body(s3, "a") == big and body(s3, "c") == b"new"
    s3.put_object(Bucket=BUCKET, Key="a", Body=b"replaced")
    assert body(s3, "a") == b"replaced"
    assert len(save(store)) == 2 and body(s3, "a") == b"replaced"


def test_a_state_with_the_bytes_inside_still_loads(s3, tmp_path):
    s3.put_object(Bucket=BUCKET, Key="old", Body=b"from before")
    store = state.Store(tmp_path / "emulator-state.pickle")
    state.write_atomically(store.path, state.snapshot())  # the whole state in one file, as format 1 kept it
    state.load(pickle.dumps({"format": state.FORMAT, "backends": {}}))
    assert store.restore() and body(s3, "old") == b"from before"
    assert len(save(store)) == 1 and body(s3, "old") == b"from before"
