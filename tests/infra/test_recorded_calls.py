"""The permission check of recorded calls (tests/infra/recorded.py), on a sample the end-to-end
tests recorded (tests/infra/recorded_calls_sample.jsonl: one call of each role, operation and
page or route of a run of test_signin_limit and test_portal_uploads). The check itself runs
over every recorded call at the end of each end-to-end session (tests/e2e/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from local.stack import LOCAL_AWS_ENV
from tests.infra.hcl import INFRA, Terraform
from tests.infra.recorded import check, model_for, read

SAMPLE = Path(__file__).with_name("recorded_calls_sample.jsonl")
# The names the sample's stack had (the code's local defaults); no pool id is needed for them.
ENV = {**LOCAL_AWS_ENV, "COGNITO_USER_POOL_ID": "us-east-1_sample"}


def _copy(tmp_path: Path, filename: str, old: str, new: str) -> Terraform:
    target = tmp_path / "infra"
    shutil.copytree(INFRA, target, ignore=shutil.ignore_patterns(".terraform"))
    text = (target / filename).read_text(encoding="utf-8")
    assert old in text, old
    (target / filename).write_text(text.replace(old, new, 1), encoding="utf-8")
    return Terraform(target)


def sample(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / "calls-1.jsonl")
    return read(folder)


def test_every_recorded_call_is_allowed(tmp_path):
    report = check(sample(tmp_path), model_for(ENV))
    assert report.calls > 30 and not report.denied, report.denied
    assert {"portal", "lambda:create_token", "lambda:create_image"} <= report.used.keys()


def test_the_portal_without_put_on_uploads_fails_naming_the_page(tmp_path):
    tf = _copy(tmp_path, "iam.tf", 'actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]\n'
               '    resources = ["${aws_s3_bucket.images.arn}/uploads/*"]',
               'actions   = ["s3:GetObject", "s3:DeleteObject"]\n'
               '    resources = ["${aws_s3_bucket.images.arn}/uploads/*"]')
    report = check(sample(tmp_path), model_for(ENV, tf))
    assert report.denied and all("s3:PutObject" in d and "/uploads/" in d for d in report.denied)
    assert any(d.startswith("portal may not s3:PutObject") and d.endswith("for POST /add/uploads/")
               for d in report.denied), report.denied


@pytest.mark.parametrize(("filename", "old", "new", "who"), [
    ("iam.tf", 'signin_attempts = ["UpdateItem", "DeleteItem", "GetItem"]',
     'signin_attempts = ["UpdateItem", "DeleteItem"]', "portal"),
    ("lambda.tf", 'signin_attempts = ["UpdateItem", "DeleteItem", "GetItem"]',
     'signin_attempts = ["UpdateItem", "DeleteItem"]', "lambda:create_token"),
])
def test_a_sign_in_over_the_limit_needs_get_item(tmp_path, filename, old, new, who):
    report = check(sample(tmp_path), model_for(ENV, _copy(tmp_path, filename, old, new)))
    assert [d for d in report.denied if d.startswith(f"{who} may not dynamodb:GetItem")
            and "signin-attempts" in d], report.denied
