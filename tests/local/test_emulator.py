"""The emulator process: idempotent set-up, public-read policy, state (and mailbox) that
survive a restart."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys

import boto3
import pytest
import requests
from pycognito.aws_srp import AWSSRP

from local import state
from local.stack import ROOT, LocalStack, free_port
from tests.helpers import make_image

pytestmark = pytest.mark.e2e


def _clients(stack: LocalStack):
    kwargs = dict(endpoint_url=stack.emulator_url, region_name="us-east-1",
                  aws_access_key_id="local", aws_secret_access_key="local")
    return boto3.client("s3", **kwargs), boto3.client("cognito-idp", **kwargs), boto3.client("dynamodb", **kwargs)


def _sign_in(stack, cognito, password):
    return AWSSRP(username="erin", password=password, pool_id=stack.env["COGNITO_USER_POOL_ID"],
                  client_id=stack.env["COGNITO_CLIENT_ID"], client=cognito).authenticate_user()


def test_state_survives_a_restart_and_setup_is_idempotent(tmp_path):
    stack = LocalStack(state_dir=tmp_path, emulator_port=free_port(), quiet=True)
    stack.start_emulator()
    try:
        s3, cognito, dynamodb = _clients(stack)
        pool_id = stack.env["COGNITO_USER_POOL_ID"]
        cognito.admin_create_user(UserPoolId=pool_id, Username="erin", MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "email", "Value": "erin@example.com"}])
        cognito.admin_set_user_password(UserPoolId=pool_id, Username="erin", Password="Erin-pass-1", Permanent=True)
        # A sign-up that waits for its mailed code across the restart.
        cognito.sign_up(ClientId=stack.env["COGNITO_CLIENT_ID"], Username="fay", Password="Fay-pass-1!",
                        UserAttributes=[{"Name": "email", "Value": "fay@example.com"}])
        mailed = requests.get(f"{stack.emulator_url}/_local/mailbox", params={"username": "fay"}, timeout=10).json()
        assert [m["code"] for m in mailed if m["code"]], "the sign-up mailed a code"
        # An image made through the real core, in a child process with the stack's environment.
        subprocess.run(
            [sys.executable, "-c",
             "from images import catalog; from tests.helpers import make_image;"
             "catalog.image_create(owner=catalog.Actor(sub='s', username='erin'),"
             " meta=catalog.validate_meta(title='Kept', description='', keywords='k', author='E', capture_date=None),"
             " data=make_image())"],
            cwd=ROOT, env=stack.env, check=True,
        )
    finally:
        stack.stop()
    assert (tmp_path / "emulator-state.pickle").exists()

    again = LocalStack(state_dir=tmp_path, emulator_port=free_port(), quiet=True)
    again.start_emulator()
    try:
        s3, cognito, dynamodb = _clients(again)
        assert again.env["COGNITO_USER_POOL_ID"] == stack.env["COGNITO_USER_POOL_ID"]
        assert again.env["COGNITO_CLIENT_ID"] == stack.env["COGNITO_CLIENT_ID"]
        assert len(cognito.list_user_pools(MaxResults=60)["UserPools"]) == 1
        assert "IdToken" in _sign_in(again, cognito, "Erin-pass-1")["AuthenticationResult"]
        with pytest.raises(cognito.exceptions.NotAuthorizedException):
            _sign_in(again, cognito, "Wrong-pass-1")
        items = dynamodb.scan(TableName="image-manager-images")["Items"]
        assert [i["title"]["S"] for i in items] == ["Kept"]
        key = items[0]["object_key"]["S"]
        assert s3.get_object(Bucket="image-manager-images", Key=key)["Body"].read() == make_image()
        kept = requests.get(f"{again.emulator_url}/_local/mailbox", params={"username": "fay"}, timeout=10).json()
        assert kept == mailed
        code = [m["code"] for m in kept if m["code"]][-1]
        cognito.confirm_sign_up(ClientId=again.env["COGNITO_CLIENT_ID"], Username="fay", ConfirmationCode=code)
    finally:
        again.stop()


def test_anonymous_reads_only_image_objects(tmp_path):
    stack = LocalStack(state_dir=tmp_path, emulator_port=free_port(), quiet=True)
    stack.start_emulator()
    try:
        s3, _, _ = _clients(stack)
        s3.put_object(Bucket="image-manager-images", Key="images/abc", Body=b"img", ContentType="image/png")
        s3.put_object(Bucket="image-manager-images", Key="staging/abc/x", Body=b"secret")
        base = f"{stack.emulator_url}/image-manager-images"
        public = requests.get(f"{base}/images/abc", timeout=10)
        assert public.status_code == 200 and public.content == b"img"
        assert public.headers["Content-Type"] == "image/png"
        assert public.headers["X-Content-Type-Options"] == "nosniff"
        assert requests.get(f"{base}/staging/abc/x", timeout=10).status_code == 403
        assert requests.get(base, timeout=10).status_code == 403
        assert requests.get(f"{base}?list-type=2", timeout=10).status_code == 403
        assert requests.put(f"{base}/images/abc", data=b"x", timeout=10).status_code == 403
        assert requests.delete(f"{base}/images/abc", timeout=10).status_code == 403
        assert s3.get_object(Bucket="image-manager-images", Key="images/abc")["Body"].read() == b"img"
    finally:
        stack.stop()


def test_a_crash_while_saving_keeps_the_previous_state(tmp_path, monkeypatch):
    path = tmp_path / "state.pickle"
    state.write_atomically(path, pickle.dumps("good"))

    def crash(src, dst):
        raise OSError("killed while saving")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        state.write_atomically(path, pickle.dumps("half"))
    assert pickle.loads(path.read_bytes()) == "good"


def test_a_process_that_fails_to_start_says_why(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        stack = LocalStack(state_dir=tmp_path, emulator_port=taken.getsockname()[1], quiet=True)
        try:
            with pytest.raises(RuntimeError) as failed:
                stack.start_emulator()
        finally:
            stack.stop()
    assert "emulator.log" in str(failed.value) and "in use" in str(failed.value)
