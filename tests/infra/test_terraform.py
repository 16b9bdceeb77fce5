"""Terraform itself reads infra/: `terraform fmt -check`, `init` with the AWS provider from this
machine's filesystem mirror (never the network), and `validate`. A machine without Terraform
1.11+ or without the pinned provider fails here with what is missing and how to get it: a
deploy that Terraform cannot even validate is not a deploy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from local.stack import ROOT

INFRA = ROOT / "infra"
MIN_TERRAFORM = (1, 11)
# Where a filesystem mirror of providers usually lives (Terraform's implied mirror directories
# first); TF_PROVIDER_MIRROR names another. A mirror's root holds registry.terraform.io/.
MIRROR_CANDIDATES = [
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/tf-plugins",
    "/opt/terraform/plugins",
]
HOW_TO_GET = (
    "install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install) and put the "
    "hashicorp/aws provider {version} in a filesystem mirror (`terraform providers mirror DIR` on a "
    "machine with registry access), then point TF_PROVIDER_MIRROR at DIR"
)


def pinned_aws_version() -> str:
    match = re.search(r'aws\s*=\s*{[^}]*version\s*=\s*"([^"]+)"', (INFRA / "versions.tf").read_text(), re.S)
    assert match, "infra/versions.tf pins no hashicorp/aws version"
    return match.group(1)


def find_mirror(version: str) -> Path | None:
    """The first mirror root holding hashicorp/aws `version` for this platform."""
    candidates = [os.environ["TF_PROVIDER_MIRROR"]] if os.environ.get("TF_PROVIDER_MIRROR") else []
    for root in [*candidates, *MIRROR_CANDIDATES]:
        path = Path(root).expanduser()
        if list(path.glob(f"registry.terraform.io/hashicorp/aws/{version}/*/terraform-provider-aws_*")):
            return path
    return None


@pytest.fixture(scope="module")
def terraform_dir(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A copy of infra/ initialised from the mirror, and the environment that found it."""
    version = pinned_aws_version()
    binary = shutil.which("terraform")
    assert binary, "terraform is not on PATH: " + HOW_TO_GET.format(version=version)
    out = subprocess.run([binary, "version"], capture_output=True, text=True, check=True).stdout
    found = tuple(int(n) for n in re.search(r"Terraform v(\d+)\.(\d+)", out).groups())
    assert found >= MIN_TERRAFORM, f"{out.splitlines()[0]} is too old: " + HOW_TO_GET.format(version=version)
    mirror = find_mirror(version)
    assert mirror, f"no filesystem mirror holds hashicorp/aws {version}: " + HOW_TO_GET.format(version=version)

    work = tmp_path_factory.mktemp("terraform")
    config = work / "cli.tfrc"
    config.write_text('provider_installation {\n  filesystem_mirror {\n'
                      f'    path    = "{mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n'
                      '  }\n}\n')
    copy = work / "infra"
    shutil.copytree(INFRA, copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
           "TF_INPUT": "0"}
    init = subprocess.run([binary, "init", "-backend=false", "-lockfile=readonly", "-no-color"], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    return copy, env


def test_terraform_fmt_is_clean():
    binary = shutil.which("terraform")
    assert binary, "terraform is not on PATH: " + HOW_TO_GET.format(version=pinned_aws_version())
    result = subprocess.run([binary, "fmt", "-check", "-recursive", "-diff", "-no-color", str(INFRA)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, "terraform fmt would change:\n" + result.stdout + result.stderr


def test_terraform_validates_with_the_pinned_provider(terraform_dir):
    copy, env = terraform_dir
    result = subprocess.run(["terraform", "validate", "-no-color"], cwd=copy, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The configuration is valid" in result.stdout


def test_the_lock_file_pins_the_provider_the_tests_run():
    lock = (INFRA / ".terraform.lock.hcl").read_text()
    version = pinned_aws_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"versions.tf must pin one exact version, not {version!r}"
    assert f'version     = "{version}"' in lock, "infra/.terraform.lock.hcl is not for the pinned provider"
    assert "hashicorp/random" not in lock  # no provider these machines cannot install

