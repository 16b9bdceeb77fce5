"""Record every AWS call the code makes, through botocore's own events (boto3 and PynamoDB
both call botocore), as the IAM requests AWS would authorise; and answer each call as AWS
would for the role in force: AccessDenied when its policy does not allow it, and 403 instead
of 404 for a missing object when the role may not list the bucket."""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import boto3
from botocore import handlers
from botocore.awsrequest import AWSResponse

from tests.infra.expr import Unsupported
from tests.infra.iam import ACCOUNT, Request, Statement, allowed

# Cognito operations IAM never evaluates (the API reference: "Amazon Cognito doesn't evaluate
# IAM policies in requests for this API operation"): they are authorised by the app client id
# or the user's own token, so a role needs no grant for them and a grant would be dead.
COGNITO_PUBLIC = {
    "SignUp", "ConfirmSignUp", "ResendConfirmationCode", "InitiateAuth", "RespondToAuthChallenge",
    "ForgotPassword", "ConfirmForgotPassword", "ChangePassword", "GetUser", "GlobalSignOut", "RevokeToken",
}
# What TransactWriteItems / TransactGetItems items are authorised as.
_TRANSACT = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem",
             "Delete": "DeleteItem", "Get": "GetItem"}


def requests_for(service: str, operation: str, params: dict, region: str) -> list[Request]:
    """The IAM requests one API call is authorised as."""
    why = f"{service}.{operation}"
    if service == "dynamodb":
        def table(name: str, index: str | None = None) -> str:
            arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{name}"
            return f"{arn}/index/{index}" if index else arn

        if operation in ("TransactWriteItems", "TransactGetItems"):
            found = []
            for item in params["TransactItems"]:
                (kind, body), = item.items()
                found.append(Request(f"dynamodb:{_TRANSACT[kind]}", table(body["TableName"]), why=why))
            return found
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [Request(f"dynamodb:{operation}", table(name), why=why) for name in params["RequestItems"]]
        return [Request(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")), why=why)]
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if operation in ("GetObject", "HeadObject"):
            return [Request("s3:GetObject", f"{bucket}/{params['Key']}", why=why)]
        if operation in ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
            return [Request("s3:PutObject", f"{bucket}/{params['Key']}", why=why)]
        if operation == "AbortMultipartUpload":
            return [Request("s3:AbortMultipartUpload", f"{bucket}/{params['Key']}", why=why)]
        if operation == "CopyObject":
            source = params["CopySource"]
            source = f"{source['Bucket']}/{source['Key']}" if isinstance(source, dict) else source.lstrip("/")
            return [Request("s3:PutObject", f"{bucket}/{params['Key']}", why=why),
                    Request("s3:GetObject", f"arn:aws:s3:::{source}", why=why)]
        if operation == "DeleteObject":
            return [Request("s3:DeleteObject", f"{bucket}/{params['Key']}", why=why)]
        if operation == "DeleteObjects":
            return [Request("s3:DeleteObject", f"{bucket}/{o['Key']}", why=why) for o in params["Delete"]["Objects"]]
        if operation in ("ListObjectsV2", "ListObjects"):
            context = (("s3:prefix", params["Prefix"]),) if "Prefix" in params else ()
            return [Request("s3:ListBucket", bucket, context, why=why)]
    if service == "cognito-idp":
        if operation in COGNITO_PUBLIC:
            return []
        if "UserPoolId" in params:
            pool = f"arn:aws:cognito-idp:{region}:{ACCOUNT}:userpool/{params['UserPoolId']}"
            return [Request(f"cognito-idp:{operation}", pool, why=why)]
    if service == "cloudfront" and operation == "CreateInvalidation":
        return [Request("cloudfront:CreateInvalidation",
                        f"arn:aws:cloudfront::{ACCOUNT}:distribution/{params['DistributionId']}", why=why)]
    if service == "secretsmanager" and operation == "GetSecretValue":
        # Secrets Manager ends an ARN with six random characters; the model names them AbCdEf.
        return [Request("secretsmanager:GetSecretValue", re.sub(r"-[A-Za-z0-9]{6}$", "-AbCdEf", params["SecretId"]),
                        why=why)]
    raise Unsupported(f"no IAM mapping for {service}.{operation}: add it to tests/infra/calls.py")


def _denied(message: str) -> tuple[AWSResponse, dict]:
    parsed = {"Error": {"Code": "AccessDenied", "Message": message},
              "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": {}}}
    return AWSResponse("https://denied.invalid/", 403, {}, None), parsed


class Recorder:
    """While installed, every botocore call is recorded under the deployable acting, checked
    against its statements and answered as AWS would answer that role."""

    def __init__(self, region: str):
        self.region = region
        self.acting: str | None = None
        self.statements: list[Statement] = []
        self.requests: dict[str, list[Request]] = defaultdict(list)
        self.denied: dict[str, list[Request]] = defaultdict(list)
        self.operations: dict[str, set[str]] = defaultdict(set)

    @contextlib.contextmanager
    def acting_as(self, name: str, statements: list[Statement]) -> Iterator[None]:
        """Calls made inside are the deployable's (outside, set-up and checks: not recorded)."""
        self.acting, self.statements = name, statements
        try:
            yield
        finally:
            self.acting, self.statements = None, []

    # -- botocore event handlers ---------------------------------------------------------
    def _keep_params(self, params: dict, context: dict, **_: Any) -> None:
        context["iam_params"] = dict(params)

    def _before_call(self, model, context: dict, **_: Any):
        if self.acting is None:
            return None
        service = model.service_model.endpoint_prefix
        self.operations[self.acting].add(f"{service}.{model.name}")
        found = requests_for(service, model.name, context.get("iam_params", {}), self.region)
        refused = [r for r in found if not allowed(self.statements, r)]
        self.requests[self.acting] += found
        if refused:
            self.denied[self.acting] += refused
            return _denied(f"{self.acting} may not {refused[0].action} on {refused[0].resource}")
        return None

    def _after_call(self, http_response, parsed: dict, model, context: dict, **_: Any) -> None:
        # S3 tells a missing key (404) only to a caller allowed s3:ListBucket on the bucket
        # (that request carries no s3:prefix); to others it answers 403 AccessDenied.
        if self.acting is None or model.service_model.endpoint_prefix != "s3" or http_response.status_code != 404:
            return
        params = context.get("iam_params", {})
        if model.name in ("GetObject", "HeadObject") and not allowed(
                self.statements, Request("s3:ListBucket", f"arn:aws:s3:::{params.get('Bucket')}")):
            http_response.status_code = 403
            parsed["Error"] = {"Code": "AccessDenied" if model.name == "GetObject" else "403", "Message": "Forbidden"}
            parsed.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = 403
            context.pop("error_code_override", None)

    def _before_sign(self, request, operation_name: str, **_: Any) -> None:
        # A presigned URL or POST is signed, not called: S3 authorises the request as the
        # signing role when the browser follows the URL or posts the form.
        if self.acting is None:
            return
        fields = request.context.get("s3-presign-post-fields")
        if fields is None and request.context.get("is_presign_request") and "iam_params" in request.context:
            self.operations[self.acting].add(f"s3.Presigned{operation_name}")
            found = requests_for("s3", operation_name, request.context["iam_params"], self.region)
            self.requests[self.acting] += found
            self.denied[self.acting] += [r for r in found if not allowed(self.statements, r)]
            return
        if operation_name != "PutObject" or fields is None:
            return
        policy = request.context["s3-presign-post-policy"]
        bucket = next(c["bucket"] for c in policy["conditions"] if isinstance(c, dict) and "bucket" in c)
        self.operations[self.acting].add("s3.PresignedPost")
        found = Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{fields['key']}", why="s3.PresignedPost")
        self.requests[self.acting].append(found)
        if not allowed(self.statements, found):
            self.denied[self.acting].append(found)

    _HANDLERS = (
        ("before-parameter-build", "_keep_params"),
        ("before-call", "_before_call"),
        ("after-call", "_after_call"),
        ("before-sign.s3", "_before_sign"),
    )

    @contextlib.contextmanager
    def installed(self) -> Iterator[Recorder]:
        """Install the handlers for every botocore session made from now on, and drop the
        clients the code keeps, so that every call of the code goes through them."""
        added = [(event, getattr(self, name)) for event, name in self._HANDLERS]
        handlers.BUILTIN_HANDLERS.extend(added)
        _drop_clients()
        try:
            yield self
        finally:
            for item in added:
                handlers.BUILTIN_HANDLERS.remove(item)
            _drop_clients()

    def report(self, name: str) -> str:
        return json.dumps(sorted({(r.action, r.resource, r.why) for r in self.denied[name]}), indent=1)


def _drop_clients() -> None:
    from accounts import cognito, records as account_records
    from images import objects, records as image_records

    from aws_lambda_powertools.utilities import parameters

    from images.catalog import idempotency

    boto3.DEFAULT_SESSION = None
    objects._client.cache_clear()
    objects._cloudfront.cache_clear()
    idempotency._store.cache_clear()
    parameters.clear_caches()
    cognito._clients.clear()
    for model in (*image_records.MODELS, *account_records.MODELS):
        model._connection = None
