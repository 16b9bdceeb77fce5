"""A missing or expired upload_key over HTTP when the local S3 answers as it answers the API's
create/update roles in AWS: they have no s3:ListBucket, so a missing key is 403 AccessDenied,
not 404 (issue 16, finding 2). Both routes that take upload_key answer the documented 400."""

from __future__ import annotations

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tests.e2e.conftest import create_user, running_stack
from tests.helpers import b64, make_image

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A local stack of its own whose S3 denies what s3:ListBucket would reveal."""
    with running_stack(tmp_path_factory.mktemp("no-list-bucket"), emulator_args=("--s3-list-bucket", "deny")) as stack:
        yield stack


@pytest.fixture(scope="module")
def auth(stack):
    create_user(stack, "uma", "Uma-pass-1")
    reply = requests.post(f"{stack.api_url}/users/token", json={"username": "uma", "password": "Uma-pass-1"},
                          timeout=30)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['id_token']}"}


def test_the_emulator_answers_a_missing_key_with_403_like_s3_without_list_bucket(stack):
    s3 = boto3.client("s3", endpoint_url=stack.emulator_url, region_name=stack.env["AWS_REGION"],
                      aws_access_key_id="local", aws_secret_access_key="local")
    bucket = stack.env.get("IMAGES_BUCKET", "image-manager-images")  # the code's default locally
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(ClientError) as refused:
            call(Bucket=bucket, Key="uploads/nobody/missing")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    s3.put_object(Bucket=bucket, Key="uploads/nobody/present", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="uploads/nobody/present")["Body"].read() == b"x"


def test_a_missing_upload_key_is_the_documented_400_on_post_and_put(stack, auth):
    api = stack.api_url
    upload = requests.post(f"{api}/images/uploads", headers=auth, timeout=30).json()
    missing = upload["upload_key"]  # asked for, never posted: as if it expired
    created = requests.post(f"{api}/images", headers=auth, timeout=30, json={
        "title": "Ghost", "author": "G", "upload_key": missing})
    assert created.status_code == 400, created.text
    assert created.json()["status"] == "fail" and "expired" in created.json()["msg"]

    image = requests.post(f"{api}/images", headers=auth, timeout=30, json={
        "title": "Real", "author": "R", "image_content": b64(make_image())})
    assert image.status_code == 201, image.text
    updated = requests.put(f"{api}/images", headers=auth, timeout=30, json={
        "id": image.json()["id"], "upload_key": missing})
    assert updated.status_code == 400, updated.text
    assert updated.json()["status"] == "ERROR" and "expired" in updated.json()["message"]
    # Nothing changed.
    found = requests.get(f"{api}/images", headers=auth, timeout=30).json()
    assert [i["title"] for i in found] == ["Real"]
