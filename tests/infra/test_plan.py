"""`terraform plan` of infra/ against the local emulator (tests/infra/terraform_emulator.py
points the provider at it): a variable outside what AWS takes fails the plan with its own
message, and a second stack (another `project`) names every table, user pool and everything
else apart from the first, in every place a name reaches (the functions' and the portal's
environment, policies, outputs)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.infra import terraform_emulator as fixtures
from tests.infra.test_terraform import INFRA, terraform_dir  # noqa: F401 (the fixture)

DEFAULT_PROJECT = "image-manager"


def _terraform(copy, env, *args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(["terraform", *args], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def emulated(terraform_dir, tmp_path_factory):  # noqa: F811
    """infra/ prepared for the emulator and initialised from the mirror."""
    _, env = terraform_dir
    work = tmp_path_factory.mktemp("plan")
    emulator = fixtures.Emulator(work)
    try:
        copy = work / "infra"
        fixtures.prepare(emulator, INFRA, copy, work / "dist")
        env = {**env, "AWS_EC2_METADATA_DISABLED": "true"}
        init = _terraform(copy, env, "init", "-no-color", "-input=false", "-backend=false", "-lockfile=readonly")
        assert init.returncode == 0, init.stdout + init.stderr
        yield copy, env
    finally:
        emulator.stop()


BAD_VARIABLES = {  # each with the message its validation gives
    "log_retention_days": ("2", "log_retention_days: one of CloudWatch Logs' allowed values"),
    "max_instances": ("1", "max_instances: at least min_instances"),
    "noncurrent_version_expiration_days": ("30", "noncurrent_version_expiration_days: at least 35"),
}


def test_bad_variables_fail_the_plan_each_with_its_message(emulated):
    """One plan with every bad value (a plan reports every failed validation)."""
    copy, env = emulated
    values = [f"-var={name}={value}" for name, (value, _) in BAD_VARIABLES.items()]
    done = _terraform(copy, env, "plan", "-no-color", "-input=false", "-refresh=false", *values)
    errors = " ".join(done.stderr.split())
    assert done.returncode != 0
    for name, (_, message) in BAD_VARIABLES.items():
        assert message in errors, (name, done.stderr[-3000:])


def test_a_second_project_names_everything_apart(emulated):
    copy, env = emulated
    done = _terraform(copy, env, "plan", "-no-color", "-input=false", "-refresh=false", "-var=project=second",
                      "-out=second.tfplan")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    plan = json.loads(_terraform(copy, env, "show", "-json", "second.tfplan").stdout)
    resources = {r["address"]: r.get("values", {}) for r in _resources(plan["planned_values"]["root_module"])}
    tables = {address: values["name"] for address, values in resources.items()
              if address.startswith("aws_dynamodb_table.")}
    assert len(tables) == 7 and all(name.startswith("second-") for name in tables.values()), tables
    assert resources["aws_cognito_user_pool.main"]["name"] == "second"
    assert resources["aws_cognito_user_pool_client.portal"]["name"] == "second-portal"
    # Nowhere a name of the default project: environments, settings, policies (the documents
    # read at plan time too), outputs.
    assert plan["prior_state"]["values"]["root_module"]["resources"]  # the data sources read
    text = json.dumps([plan[part] for part in ("planned_values", "prior_state", "resource_changes", "output_changes")])
    assert DEFAULT_PROJECT not in text, text[max(0, text.find(DEFAULT_PROJECT) - 300):text.find(DEFAULT_PROJECT) + 100]


def _resources(module: dict) -> list[dict]:
    return [*module.get("resources", []), *(r for child in module.get("child_modules", []) for r in _resources(child))]
