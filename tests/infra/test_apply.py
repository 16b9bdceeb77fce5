"""Terraform applied to the local emulator and destroyed, inside `make test` (about 4 minutes
on one worker; alone: `make infra-apply`). Plans everything, applies all that moto can make
(tests/infra/terraform_emulator.py names the 8 left out and why: they get the plan-only
check), reads back what the code relies on, tears down as docs/deploy.md says, and finds
nothing left."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.infra.test_terraform import INFRA, terraform_dir  # noqa: F401 (the fixture)


def _terraform(copy: Path, env: dict[str, str], *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    command, *rest = args
    flags = {"init": ["-no-color", "-input=false"], "plan": ["-no-color", "-input=false"],
             "apply": ["-no-color", "-input=false"], "destroy": ["-no-color", "-input=false"],
             "show": ["-no-color"], "output": ["-no-color"]}.get(command, [])
    result = subprocess.run(["terraform", command, *flags, *rest], cwd=copy, env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"terraform {args[0]}:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    return result


def test_terraform_applies_to_the_emulator_and_destroys(terraform_dir, tmp_path, record_property):
    """Plan everything, apply all that moto can make (LEFT_OUT names the rest and why), read
    back what the code relies on, destroy, and find nothing left."""
    import json
    import time

    from tests.infra import terraform_emulator as fixtures

    _, env = terraform_dir
    started = time.monotonic()
    emulator = fixtures.Emulator(tmp_path)
    try:
        copy = tmp_path / "infra"
        fixtures.prepare(emulator, INFRA, copy, tmp_path / "dist")
        env = {**env, "TF_PLUGIN_CACHE_DIR": "", "AWS_EC2_METADATA_DISABLED": "true"}
        _terraform(copy, env, "init", "-backend=false", "-lockfile=readonly")
        _terraform(copy, env, "plan", "-out=full.tfplan")
        plan = json.loads(_terraform(copy, env, "show", "-json", "full.tfplan").stdout)
        planned = {f"{c['type']}.{c['name']}" for c in plan["resource_changes"]
                   if c["mode"] == "managed" and c["change"]["actions"] == ["create"]}
        assert set(fixtures.LEFT_OUT) <= planned, set(fixtures.LEFT_OUT) - planned  # the plan-only check
        instances = [c for c in plan["resource_changes"] if c["mode"] == "managed"]
        targets = sorted(planned - set(fixtures.LEFT_OUT))
        _terraform(copy, env, "apply", "-auto-approve", "-parallelism=20",
                   *(f"-target={t}" for t in targets), timeout=900)
        state = _terraform(copy, env, "state", "list").stdout.split()
        applied = [s for s in state if not s.startswith("data.")]
        summary = (f"terraform applied {len(applied)} of {len(instances)} planned resources to the emulator in "
                   f"{time.monotonic() - started:.0f} s; left out (plan only):\n" +
                   "\n".join(f"  {address}: {why}" for address, why in fixtures.LEFT_OUT.items()))
        record_property("summary", summary)  # printed at the end of `make test` (conftest.py)
        left = [c["address"] for c in instances
                if f"{c['type']}.{c['name']}" not in fixtures.LEFT_OUT and c["address"] not in state]
        assert not left, f"planned but not applied: {left}"
        _read_back(emulator, copy, env)
        _empty_buckets(emulator.client("s3"))
        _terraform(copy, env, "destroy", "-auto-approve", "-parallelism=20", "-refresh=false", timeout=900)
        assert _terraform(copy, env, "state", "list").stdout.split() == []
        assert emulator.client("dynamodb").list_tables()["TableNames"] == []
        assert emulator.client("lambda").list_functions()["Functions"] == []
        summary += f"\napplied, read back and destroyed in {time.monotonic() - started:.0f} s"
        record_property("summary", summary)
    finally:
        emulator.stop()


def _empty_buckets(s3) -> None:
    """The runbook's teardown step 2 ("Tearing down" in docs/deploy.md): every object version
    and delete marker of the versioned buckets. First their policies go: moto applies the
    deny-insecure-transport statement to its own plain-HTTP endpoint (AWS is reached over TLS)."""
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        s3.delete_bucket_policy(Bucket=bucket)
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})


def _read_back(emulator, copy: Path, env: dict[str, str]) -> None:
    """What was made agrees with what the code expects."""
    import json

    import yaml

    from tests.infra.hcl import terraform
    from tests.infra.test_data import TABLES, table_name

    outputs = {k: v["value"] for k, v in json.loads(_terraform(copy, env, "output", "-json").stdout).items()}
    dynamodb = emulator.client("dynamodb")
    tf = terraform()
    for model, resource, _variable, _ in TABLES:
        name = table_name(resource)
        table = dynamodb.describe_table(TableName=name)["Table"]
        schema = model._get_schema()
        assert {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]} == \
            {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}, name
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == \
            {i["index_name"] for i in schema["global_secondary_indexes"]}, name
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        expected_ttl = model._ttl_attribute()
        assert (ttl.get("AttributeName") if ttl["TimeToLiveStatus"] == "ENABLED" else None) == \
            (expected_ttl.attr_name if expected_ttl else None), name
        backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED", name

    s3 = emulator.client("s3")
    block = s3.get_public_access_block(Bucket=outputs["images_bucket"])["PublicAccessBlockConfiguration"]
    assert all(block.values()), block
    policy = json.loads(s3.get_bucket_policy(Bucket=outputs["images_bucket"])["Policy"])
    assert policy["Statement"]

    cognito = emulator.client("cognito-idp")
    pool = outputs["cognito_user_pool_id"]
    assert [c["ClientId"] for c in cognito.list_user_pool_clients(UserPoolId=pool)["UserPoolClients"]] == \
        [outputs["cognito_client_id"]]
    assert cognito.get_group(UserPoolId=pool, GroupName=outputs["cognito_staff_group"])

    functions = {f["Handler"]: f for f in emulator.client("lambda").list_functions()["Functions"]}
    deployed = {spec["handler"]: spec for spec in tf.locals["functions"].values()}
    assert set(deployed) <= set(functions)
    core = set(tf.locals["core_environment"])
    for handler, function in functions.items():
        assert function["Runtime"] == "python3.12", handler
    for handler in deployed:  # the API's functions read the core's whole configuration
        missing = core - set(functions[handler]["Environment"]["Variables"])
        assert not missing, (handler, missing)
    for handler, spec in deployed.items():
        memory = spec.get("memory_size")
        if isinstance(memory, int):
            assert functions[handler]["MemorySize"] == memory, handler

    _read_back_render(emulator, tf.default("project"))

    spec = yaml.safe_load((INFRA / "openapi.yaml").read_text(encoding="utf-8"))
    routes = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops
              if method in ("get", "post", "put", "delete", "patch")}
    apigateway = emulator.client("apigateway")
    api = apigateway.get_rest_apis()["items"][0]["id"]
    made = {(r["path"], method) for r in apigateway.get_resources(restApiId=api, limit=500)["items"]
            for method in r.get("resourceMethods", {}) if method != "OPTIONS"}
    assert routes <= made, routes - made
    # (moto makes no authorizer from the body's x-amazon-apigateway-authorizer: the Cognito
    # authorizer of each secured route is checked in the spec by tests/infra/test_routes.py)


def _read_back_render(emulator, project: str) -> None:
    """The render function (issue 25): its handler, the two settings it reads, a URL only
    signed requests reach, and a role of exactly its calls (images.render: read an original or
    rendition, store a rendition or take back one whose original went while it rendered; its logs)."""
    import json

    name = f"{project}-render"
    aws_lambda, iam = emulator.client("lambda"), emulator.client("iam")
    function = aws_lambda.get_function(FunctionName=name)["Configuration"]
    assert function["Handler"] == "images.render.lambda_handler"
    assert set(function["Environment"]["Variables"]) == {"IMAGES_BUCKET", "IMAGE_MAX_PIXELS"}
    assert aws_lambda.get_function_url_config(FunctionName=name)["AuthType"] == "AWS_IAM"
    role = function["Role"].rsplit("/", 1)[1]
    document = iam.get_role_policy(RoleName=role, PolicyName="least-privilege")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    granted = {(action, resource.split(":::", 1)[-1]) for statement in document["Statement"]
               for action in _listed(statement["Action"]) for resource in _listed(statement["Resource"])
               if action.startswith("s3:")}
    bucket = function["Environment"]["Variables"]["IMAGES_BUCKET"]
    assert granted == {("s3:GetObject", f"{bucket}/images/*"), ("s3:GetObject", f"{bucket}/renditions/*"),
                       ("s3:PutObject", f"{bucket}/renditions/*"), ("s3:DeleteObject", f"{bucket}/renditions/*")}, granted


def _listed(value) -> list[str]:
    return value if isinstance(value, list) else [value]
