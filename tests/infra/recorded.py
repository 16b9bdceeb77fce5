"""Check the AWS calls the end-to-end tests really made (local/call_log.py records them from
the portal's and the gateway's processes) against each role's policy as infra/*.tf defines it:
every call must be allowed for the exact table, index, key or pool; what each role is granted
and no recorded call used is reported (a call no test makes cannot be checked)."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from tests.infra.calls import requests_for
from tests.infra.expr import Unsupported
from tests.infra.hcl import Terraform, terraform
from tests.infra.iam import Model, Request, Statement, allowed, grants, matches


@dataclass
class Report:
    calls: int = 0
    denied: list[str] = field(default_factory=list)
    used: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    unused: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"calls": self.calls, "denied": self.denied,
                           "used": {role: sorted(found) for role, found in sorted(self.used.items())},
                           "granted_but_unused": self.unused}, indent=1)


def model_for(env: dict[str, str], tf: Terraform | None = None) -> Model:
    """infra/ evaluated for the names of the stack whose environment is `env`."""
    from common.config import get_config

    with mock.patch.dict(os.environ, env, clear=True):
        get_config.cache_clear()
        config = get_config()
    get_config.cache_clear()
    return Model(config, tf)


def role_name(role: str, handlers: dict[str, str]) -> tuple[str, str]:
    """(the role as test_permissions names it, how Model finds its policy)."""
    if role == "portal":
        return "portal", "portal"
    handler = role.removeprefix("handler:")
    if handler not in handlers:
        raise Unsupported(f"no function in infra/lambda.tf deploys handler {handler}")
    return f"lambda:{handlers[handler]}", handlers[handler]


def check(lines: list[dict], model: Model) -> Report:
    """Each recorded call evaluated under its role's policy."""
    handlers = {f["handler"]: key for key, f in model.tf.locals["functions"].items()}
    policies: dict[str, list[Statement]] = {}
    report = Report()
    for line in lines:
        report.calls += 1
        try:
            name, key = role_name(line["role"], handlers)
            if name not in policies:
                policies[name] = model.role_policy("portal") if name == "portal" else model.role_policy("lambda", key)
            if line["operation"] == "PresignedPost":
                params = line["params"]
                found = [Request("s3:PutObject", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}",
                                 why="s3.PresignedPost")]
            else:
                found = requests_for(line["service"], line["operation"], line["params"], model.region)
        except Unsupported as exc:
            report.denied.append(f"{line['role']} ({line['where']}): {exc}")
            continue
        for request in found:
            if allowed(policies[name], request):
                report.used[name].add((request.action, request.resource))
            else:
                report.denied.append(f"{name} may not {request.action} on {request.resource}: "
                                     f"{line['service']}.{line['operation']} for {line['where'] or '(no request)'}")
    for name, statements in policies.items():
        used = [Request(action, resource) for action, resource in report.used[name]]
        report.unused[name] = sorted({
            (action, resource) for action, resource, statement in grants(statements)
            if not any(matches(Statement(statement.sid, "Allow", (action,), (resource,), statement.conditions), r)
                       for r in used)
        })
    report.denied = sorted(set(report.denied))
    return report


def read(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("calls-*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_folder(folder: Path, env: dict[str, str], tf: Terraform | None = None) -> Report:
    return check(read(folder), model_for(env, tf or terraform()))
