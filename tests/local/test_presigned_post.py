"""The emulator's check of browser-style presigned POSTs (moto stores them unchecked)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config

from local import emulator

@pytest.fixture
def form(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    client = boto3.client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                          aws_access_key_id="local", aws_secret_access_key="local",
                          config=Config(signature_version="s3v4"))
    return client.generate_presigned_post(Bucket="b", Key="uploads/k", ExpiresIn=900,
                                          Conditions=[["content-length-range", 1, 100]])["fields"]


def check(fields, size=10, bucket="b", later=timedelta(0)):
    refused = emulator._check_presigned_post(bucket, fields, size, datetime.now(timezone.utc) + later)
    return refused and refused[1]


def test_a_valid_form_passes(form):
    assert check(form) is None


@pytest.mark.parametrize("change, code", [
    (dict(size=101), "EntityTooLarge"),
    (dict(size=0), "EntityTooSmall"),
    (dict(bucket="other"), "AccessDenied"),
    (dict(later=timedelta(minutes=16)), "AccessDenied"),  # the form lives 15 minutes
])
def test_the_policy_is_enforced(form, change, code):
    assert check(form, **change) == code


def test_fields_must_match_the_signed_policy(form):
    assert check({**form, "key": "uploads/other"}) == "AccessDenied"
    assert check({**form, "x-amz-signature": "0" * 64}) == "SignatureDoesNotMatch"
    assert check({**form, "Content-Type": "text/html"}) == "AccessDenied"  # not covered by a condition
    assert check({k: v for k, v in form.items() if k != "policy"}) == "AccessDenied"


def test_only_multipart_posts_to_a_bucket_root_without_credentials_are_presigned_posts():
    base = {"REQUEST_METHOD": "POST", "PATH_INFO": "/b", "CONTENT_TYPE": "multipart/form-data; boundary=x"}
    assert emulator._is_presigned_post(base)
    assert not emulator._is_presigned_post({**base, "PATH_INFO": "/b/key"})
    assert not emulator._is_presigned_post({**base, "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 ..."})
    assert not emulator._is_presigned_post({**base, "QUERY_STRING": "delete"})
    assert not emulator._is_presigned_post({**base, "REQUEST_METHOD": "PUT"})
    assert not emulator._is_presigned_post({**base, "CONTENT_TYPE": "application/xml"})
