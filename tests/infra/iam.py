"""The IAM policies of infra/ as statements with real ARNs, and an evaluator of requests
against them (Allow/Deny, wildcards, the condition operators infra/ uses). The ARNs are
built for the resources of the test stack (the `aws` fixture's names), so a request the code
makes there can be checked against the policy AWS would apply to it."""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass, field
from typing import Any

from common.config import Config
from tests.infra.expr import Unsupported, evaluate
from tests.infra.hcl import Terraform, terraform

ACCOUNT = "123456789012"  # moto's account
KMS_KEY_ID = "11111111-2222-3333-4444-555555555555"


@dataclass(frozen=True)
class PolicyRef:
    """data.aws_iam_policy_document.<name>[<key>].json, not yet expanded."""

    name: str
    key: str | None = None


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Request:
    """One IAM authorisation: an action on a resource ARN, with its condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    why: str = field(default="", compare=False)


class _Lazy:
    """A namespace whose members are computed on first use (`local`, `var`, resources)."""

    def __init__(self, get):
        self._get, self._cache = get, {}

    def attr(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = self._get(name)
        return self._cache[name]


class Model:
    """infra/*.tf evaluated for one stack's names (the environment of `config`)."""

    def __init__(self, config: Config, tf: Terraform | None = None):
        self.tf = tf or terraform()
        self.config = config
        self.region = config.aws_region
        self.scope = {
            "var": _Lazy(self._variable),
            "local": _Lazy(lambda name: evaluate(self.tf.locals[name], self.scope)),
            "data": _Lazy(lambda kind: _Lazy(lambda name: self._data(kind, name))),
        }
        for kind in self.tf.resources:
            self.scope[kind] = _Lazy(functools.partial(self._resource, kind))

    # -- names ---------------------------------------------------------------------------
    def _variable(self, name: str) -> Any:
        if "default" not in self.tf.variables[name]:
            raise Unsupported(f"var.{name} has no default")
        return self.tf.variables[name]["default"]

    def _environment(self, reference: str) -> str | None:
        """The stack's value of an attribute the code reads from the environment."""
        env = {v: k for k, v in self.tf.locals["core_environment"].items() if isinstance(v, str)}
        name = env.get("${" + reference + "}")
        return None if name is None else {
            "IMAGES_TABLE": self.config.images_table, "IMAGE_TERMS_TABLE": self.config.image_terms_table,
            "SESSIONS_TABLE": self.config.sessions_table, "SIGNIN_ATTEMPTS_TABLE": self.config.signin_attempts_table,
            "IMAGES_BUCKET": self.config.images_bucket, "COGNITO_USER_POOL_ID": self.config.cognito_user_pool_id,
            "HISTORY_TABLE": self.config.history_table, "IDEMPOTENCY_TABLE": self.config.idempotency_table,
            "CLOUDFRONT_DISTRIBUTION_ID": self.config.cloudfront_distribution_id,
        }.get(name)

    def _data(self, kind: str, name: str) -> Any:
        if kind == "aws_iam_policy_document":
            block = self.tf.data[kind][name]
            if "for_each" in block or "count" in block:
                return _Lazy(lambda key: {"json": PolicyRef(name, key)})
            return {"json": PolicyRef(name)}
        fixed = {
            "aws_caller_identity": {"account_id": ACCOUNT},
            "aws_partition": {"partition": "aws"},
            "aws_region": {"region": self.region, "name": self.region},
        }
        if kind not in fixed:
            raise Unsupported(f"data.{kind}")
        return fixed[kind]

    def _resource(self, kind: str, name: str) -> Any:
        block = self.tf.resources[kind][name]
        if "for_each" in block:
            each = evaluate(block["for_each"], self.scope)
            return _Lazy(lambda key: self._attributes(kind, name, block, {"key": key, "value": each[key]}))
        if "count" in block:  # read as if enabled: the policy of a resource that may be made
            return _Lazy(lambda index: self._attributes(kind, name, block, None))
        return self._attributes(kind, name, block, None)

    def _attributes(self, kind: str, name: str, block: dict, each: dict | None) -> dict:
        scope = {**self.scope, "each": each} if each else self.scope

        def attribute(attr: str) -> Any:
            return evaluate(block[attr], scope)

        ref = f"{kind}.{name}" + (f'["{each["key"]}"]' if each else "")
        arn_prefix = f"arn:aws:{{}}:{self.region}:{ACCOUNT}:"
        if kind == "aws_dynamodb_table":
            table = self._environment(f"{ref}.name") or attribute("name")
            return {"name": table, "arn": arn_prefix.format("dynamodb") + f"table/{table}"}
        if kind == "aws_s3_bucket":
            bucket = self._environment(f"{ref}.id") or attribute("bucket")
            return {"id": bucket, "arn": f"arn:aws:s3:::{bucket}"}
        if kind == "aws_cognito_user_pool":
            pool = self._environment(f"{ref}.id")
            return {"id": pool, "arn": arn_prefix.format("cognito-idp") + f"userpool/{pool}"}
        if kind == "aws_cloudfront_distribution":
            distribution = self._environment(f"{ref}.id")
            return {"id": distribution, "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{distribution}"}
        if kind == "aws_kms_key":
            return {"arn": arn_prefix.format("kms") + f"key/{KMS_KEY_ID}"}
        if kind == "aws_secretsmanager_secret":
            return {"arn": arn_prefix.format("secretsmanager") + f"secret:{attribute('name')}-AbCdEf"}
        if kind == "aws_cloudwatch_log_group":
            return {"name": attribute("name"), "arn": arn_prefix.format("logs") + f"log-group:{attribute('name')}"}
        if kind in ("aws_iam_role", "aws_iam_role_policy"):
            return _Lazy(attribute)
        raise Unsupported(f"attributes of {ref}")

    # -- policies ------------------------------------------------------------------------
    def statements(self, ref: PolicyRef) -> list[Statement]:
        """A policy document's statements, its source_policy_documents' first."""
        block = self.tf.data["aws_iam_policy_document"][ref.name]
        scope = dict(self.scope)
        if ref.key is not None and "for_each" in block:
            scope["each"] = {"key": ref.key, "value": evaluate(block["for_each"], self.scope)[ref.key]}
        found: list[Statement] = []
        for source in evaluate(block.get("source_policy_documents", []), scope):
            found += self.statements(source)
        for raw in block.get("statement", []):
            found.append(self._statement(raw, scope))
        for dynamic in block.get("dynamic", []):
            (label, spec), = dynamic.items()
            if label != "statement":
                raise Unsupported(f"dynamic {label}")
            items = evaluate(spec["for_each"], scope)
            for key, value in items.items() if isinstance(items, dict) else enumerate(items):
                for raw in spec["content"]:
                    found.append(self._statement(raw, {**scope, "statement": {"key": key, "value": value}}))
        unknown = set(block) - {"for_each", "count", "source_policy_documents", "statement", "dynamic"}
        if unknown:
            raise Unsupported(f"policy document {ref.name}: {sorted(unknown)}")
        return found

    def _statement(self, raw: dict, scope: dict) -> Statement:
        unknown = set(raw) - {"sid", "effect", "actions", "resources", "condition"}
        if unknown:
            raise Unsupported(f"statement {raw.get('sid')}: {sorted(unknown)}")
        conditions = tuple(
            (c["test"], c["variable"], tuple(evaluate(c["values"], scope))) for c in raw.get("condition", [])
        )
        return Statement(
            sid=evaluate(raw.get("sid", ""), scope),
            effect=raw.get("effect", "Allow"),
            actions=tuple(evaluate(raw["actions"], scope)),
            resources=tuple(evaluate(raw["resources"], scope)),
            conditions=conditions,
        )

    def role_policy(self, name: str, key: str | None = None) -> list[Statement]:
        """The statements of aws_iam_role_policy.<name>[<key>]."""
        policy = self.scope["aws_iam_role_policy"].attr(name)
        if key is not None:
            policy = policy.attr(key)
        return self.statements(policy.attr("policy"))


# -- evaluation ------------------------------------------------------------------------------

def _like(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _condition_holds(test: str, variable: str, values: tuple[str, ...], context: dict[str, str]) -> bool:
    if variable not in context:
        return False  # no ...IfExists operator in infra/: a missing key fails the condition
    actual = context[variable]
    if test == "StringEquals":
        return actual in values
    if test in ("StringLike", "ArnLike"):
        return any(_like(v, actual) for v in values)
    if test == "Bool":
        return actual.lower() in [v.lower() for v in values]
    raise Unsupported(f"condition operator {test}")


def matches(statement: Statement, request: Request) -> bool:
    context = dict(request.context)
    return (
        any(_like(a.lower(), request.action.lower()) for a in statement.actions)
        and any(_like(r, request.resource) for r in statement.resources)
        and all(_condition_holds(t, v, vals, context) for t, v, vals in statement.conditions)
    )


def allowed(statements: list[Statement], request: Request) -> bool:
    """IAM's rule: an explicit Deny wins, then an Allow is needed."""
    hits = [s for s in statements if matches(s, request)]
    return any(s.effect == "Allow" for s in hits) and not any(s.effect == "Deny" for s in hits)


def grants(statements: list[Statement]) -> list[tuple[str, str, Statement]]:
    """Every (action, resource pattern) an Allow statement grants."""
    return [(a, r, s) for s in statements if s.effect == "Allow" for a in s.actions for r in s.resources]
