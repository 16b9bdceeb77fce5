"""Permissions checked by running the code, not by reading it: each deployable (every Lambda
function of infra/lambda.tf, the sweep of infra/maintenance.tf, the render function of infra/renditions.tf, the portal's instance role of
infra/iam.tf) runs its representative flows (tests/infra/flows.py) on the in-process AWS,
with every AWS call recorded through botocore's events and answered as AWS would answer that
role (tests/infra/calls.py). Every call must be allowed by the role's policy as parsed from
infra/*.tf, for the exact table, index, object key or pool it touches; and every action the
policy grants must be used by a call (or by the platform on the role's behalf, listed below)."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path

import pytest

from tests.infra import flows
from tests.infra.calls import Recorder
from tests.infra.hcl import INFRA, Terraform, terraform
from tests.infra.iam import Model, Request, Statement, grants, matches
from tests.infra.recorded import check as check_recorded
from tests.infra.recorded import model_for

pytestmark = pytest.mark.django_db

FUNCTIONS = sorted(terraform().locals["functions"])


@pytest.fixture
def aws(aws, monkeypatch, request):
    """The stack as in AWS: a CDN in front of the images, and (for the Lambdas, which read it
    themselves) the cursor secret in Secrets Manager."""
    import boto3

    from common.config import get_config

    distribution = boto3.client("cloudfront").create_distribution(DistributionConfig={
        "CallerReference": "images", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "bucket.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0,
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
    })["Distribution"]["Id"]
    monkeypatch.setenv("CLOUDFRONT_DISTRIBUTION_ID", distribution)
    name = getattr(getattr(request.node, "callspec", None), "params", {}).get("name", "")
    if name.startswith("lambda:"):
        secret = boto3.client("secretsmanager").create_secret(Name="image-manager/cursor-secret", SecretString="k" * 64)
        monkeypatch.setenv("CURSOR_SECRET_ARN", secret["ARN"])
    get_config.cache_clear()
    return get_config()
DEPLOYABLES = [*(f"lambda:{key}" for key in FUNCTIONS), "maintenance", "render", "pre_sign_up", "portal"]


def _flows(name: str, request) -> list:
    if name == "portal":
        client = request.getfixturevalue("client")
        return [flows.portal_commands, lambda act: flows.portal_pages(act, client)]
    if name == "maintenance":
        return [flows.maintenance_sweep]
    if name == "pre_sign_up":
        return [flows.pre_sign_up]
    if name == "render":
        return [flows.render]
    return [getattr(flows, name.split(":", 1)[1])]


def _policy(model: Model, name: str) -> list[Statement]:
    if name.startswith("lambda:"):
        return model.role_policy("lambda", name.split(":", 1)[1])
    if name == "pre_sign_up":
        return model.role_policy(name, 0)
    return model.role_policy(name)


def platform_requests(model: Model, name: str, calls: list[Request]) -> list[Request]:
    """What AWS does with the role on the code's behalf (no call of the code shows it)."""
    key = model.scope["aws_kms_key"].attr("main")["arn"]
    found = []
    if any(r.action.startswith("dynamodb:") for r in calls):
        # The tables are encrypted with the system's key: DynamoDB uses it as the caller.
        via = (("kms:ViaService", f"dynamodb.{model.region}.amazonaws.com"),)
        found += [Request(f"kms:{a}", key, via, why="DynamoDB on a KMS-encrypted table")
                  for a in ("Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey")]
    if any(r.action == "secretsmanager:GetSecretValue" for r in calls):
        found.append(Request("kms:Decrypt", key, (("kms:ViaService", f"secretsmanager.{model.region}.amazonaws.com"),),
                             why="the secret is encrypted with the system's key"))
    if name == "portal":
        secrets = [model.scope["aws_secretsmanager_secret"].attr(s)["arn"] for s in ("django_secret_key", "cursor_secret")]
        bucket = model.scope["aws_s3_bucket"].attr("artifacts")["arn"]
        found += [
            *(Request("secretsmanager:GetSecretValue", secret, why="Beanstalk environment secret at instance start")
              for secret in secrets),
            Request("kms:Decrypt", key, (("kms:ViaService", f"secretsmanager.{model.region}.amazonaws.com"),),
                    why="the secret is encrypted with the system's key"),
            Request("s3:GetObject", f"{bucket}/portal/abc123-0123abcd.zip", why="the instance fetches its bundle"),
        ]
    else:
        groups = model.scope["aws_cloudwatch_log_group"]
        group = groups.attr("lambda").attr(name.split(":", 1)[1]) if name.startswith("lambda:") else groups.attr(name)
        group = group.attr(0) if name == "pre_sign_up" else group
        stream = f"{group['arn']}:log-stream:2026/01/01/[$LATEST]0123456789abcdef"
        found += [Request(f"logs:{a}", stream, why="the Lambda runtime writes the function's log")
                  for a in ("CreateLogStream", "PutLogEvents")]
    return found


def read_recorded_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@functools.cache
def _recorded_sample():
    """The end-to-end tests' recorded sample, checked under infra/ as committed."""
    from tests.infra.test_recorded_calls import ENV, SAMPLE

    return check_recorded(read_recorded_lines(SAMPLE), model_for(ENV))


def check(name: str, model: Model, request) -> Recorder:
    """Run the deployable's flows under its policy; raise AssertionError on any call it may
    not make and on any grant nothing uses."""
    statements = _policy(model, name)
    recorder = Recorder(model.region)
    with recorder.installed():
        failure = None
        for flow in _flows(name, request):
            try:
                flow(lambda: recorder.acting_as(name, statements))
            except Exception as exc:  # reported below with the denials that likely caused it
                failure = exc
                break
    assert not recorder.denied[name], f"{name} makes calls its policy does not allow:\n{recorder.report(name)}"
    if failure is not None:
        raise AssertionError(f"{name}: a flow failed: {failure!r}") from failure
    # Grants the end-to-end tests' recorded calls use count too (the flows are a supplement).
    recorded = [Request(action, resource) for action, resource in _recorded_sample().used.get(name, ())]
    used = recorder.requests[name] + platform_requests(model, name, recorder.requests[name]) + recorded
    unused = sorted({
        (action, resource) for action, resource, statement in grants(statements)
        if not any(matches(Statement(statement.sid, "Allow", (action,), (resource,), statement.conditions), r)
                   for r in used)
    })
    assert not unused, f"{name} is granted actions nothing calls: {unused}"
    return recorder


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_every_call_is_allowed_and_every_grant_is_used(name, aws, request):
    check(name, Model(aws), request)


def test_every_function_has_flows():
    lambdas = {name for name in DEPLOYABLES if name.startswith("lambda:")}
    assert lambdas == {f"lambda:{key}" for key in FUNCTIONS}
    for name in lambdas:
        assert callable(getattr(flows, name.split(":", 1)[1]))


# -- broken on purpose: the check fails ------------------------------------------------------

def _copy(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Terraform:
    """infra/ copied, with (old, new) text replaced in the named files."""
    target = tmp_path / "infra"
    shutil.copytree(INFRA, target)
    for filename, (old, new) in edits.items():
        path = target / filename
        text = path.read_text(encoding="utf-8")
        assert old in text, (filename, old)
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return Terraform(target)


def test_a_removed_action_fails_the_check(aws, request, tmp_path):
    # The runbook's disable_user command on an instance needs AdminDisableUser.
    tf = _copy(tmp_path, {"iam.tf": ('      "cognito-idp:AdminDisableUser",\n', "")})
    with pytest.raises(AssertionError, match="cognito-idp:AdminDisableUser"):
        check("portal", Model(aws, tf), request)


def test_the_portal_may_not_create_users(aws, request, tmp_path):
    # No page creates users or adds them to groups (the operator does, with the AWS CLI): a
    # grant of either to the instance role is one nothing calls.
    grant = ('      "cognito-idp:AdminDisableUser",\n',
             '      "cognito-idp:AdminDisableUser",\n      "cognito-idp:AdminCreateUser",\n'
             '      "cognito-idp:AdminAddUserToGroup",\n')
    tf = _copy(tmp_path, {"iam.tf": grant})
    with pytest.raises(AssertionError, match="granted actions nothing calls.*cognito-idp:Admin(CreateUser|AddUserToGroup)"):
        check("portal", Model(aws, tf), request)


def test_a_missing_upload_with_a_prefix_condition_on_list_bucket_is_still_a_400(aws, request, tmp_path):
    # Finding 3's root: S3 answers a missing key with 403, not 404, to a role without an
    # unconditioned ListBucket. The sweep no longer asks about single keys (file versions are
    # immutable: no HeadObject), and registering a missing upload maps 403 to the documented
    # 400 (finding 2), so the create function's flow passes with no ListBucket at all.
    check("lambda:create_image", Model(aws), request)


def test_removing_the_cdn_invalidation_fails_the_check(aws, request, tmp_path):
    # A delete or a replacement must take the old file out of the CDN at once.
    statement = ('  # A delete or a file replacement takes the old objects out of the CDN at once.\n  statement {\n'
                 '    sid       = "InvalidateImageCache"\n    actions   = ["cloudfront:CreateInvalidation"]\n'
                 '    resources = [aws_cloudfront_distribution.images.arn]\n  }\n', "")
    tf = _copy(tmp_path, {"iam.tf": statement})
    with pytest.raises(AssertionError, match="cloudfront:CreateInvalidation"):
        check("portal", Model(aws, tf), request)


def test_a_grant_nothing_calls_fails_the_check(aws, request, tmp_path):
    extra = ('images_by_created = ["Query"]', 'images_by_created = ["Query", "Scan"]')
    tf = _copy(tmp_path, {"lambda.tf": extra})
    with pytest.raises(AssertionError, match="granted actions nothing calls.*dynamodb:Scan"):
        check("lambda:list_images", Model(aws, tf), request)
