"""docs/deploy.md cannot drift from the code: every Terraform output, variable, resource
address, make target, file, handler and management command its commands and settings name
exists in infra/ and the repository; the files it keeps on the operator's machine are
ignored by git; its shell commands take names from Terraform outputs, never the defaults."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.infra.hcl import INFRA, ROOT, Terraform, terraform, top_level_functions

DOC = ROOT / "docs" / "deploy.md"
FENCED = re.compile(r"```(\w*)\n(.*?)```", re.S)
INLINE = re.compile(r"`([^`]+)`")  # may wrap onto the next line
PATH = re.compile(r"(?<![\w./-])(?:\.\./)?((?:infra|docs|scripts|requirements|images|accounts|common|portal|local|tests|"
                  r"\.ebextensions|\.platform|dist)/[\w.-]+(?:/[\w.-]+)*|Makefile|Procfile)")
DJANGO_COMMANDS = {"migrate", "collectstatic", "check", "shell", "runserver"}


def _ignored(root: Path, path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=root, check=False).returncode == 0


def make_targets(root: Path) -> set[str]:
    targets = set()
    for path in [root / "Makefile", *sorted((root / "mk").glob("*.mk"))]:
        targets |= set(re.findall(r"^([a-z][\w-]*)\s*:(?!=)", path.read_text(encoding="utf-8"), re.M))
    return targets


def problems(doc: str, tf: Terraform, root: Path = ROOT) -> list[str]:
    """What the runbook names that does not exist, or that it should not write as it does."""
    found = []
    blocks = FENCED.findall(doc)
    shell = "\n".join(body for lang, body in blocks if lang == "sh")
    inline = [" ".join(span.split()) for span in INLINE.findall(FENCED.sub("", doc))]
    code = "\n".join(body for _, body in blocks) + "\n" + "\n".join(inline)

    for name in re.findall(r"terraform output(?: -raw| -json)?[ \t]+([a-z][a-z0-9_]*)", code):
        if name not in tf.outputs:
            found.append(f"terraform output {name}: no such output in infra/")

    variables = set()
    for lang, body in blocks:
        if lang == "hcl":
            variables |= set(re.findall(r"^\s*([a-z][a-z0-9_]*)\s*=", body, re.M))
    variables |= set(re.findall(r"^([a-z][a-z0-9_]*) = ", "\n".join(inline), re.M))
    variables |= set(re.findall(r"tfvars: ([a-z][a-z0-9_]*) =", shell))
    variables |= set(re.findall(r"-var\s+'?([a-z][a-z0-9_]*)=", code))
    for row in re.findall(r"^\| (`[a-z0-9_]+`(?: / `[a-z0-9_]+`)*) \|", doc, re.M):
        variables |= set(re.findall(r"`([a-z0-9_]+)`", row))
    for name in sorted(variables - set(tf.variables)):
        found.append(f"variable {name}: not in infra/variables.tf")
    for name, variable in tf.variables.items():
        required = "default" not in variable
        if required and not re.search(rf"^{name}\s*=", "\n".join(b for lang, b in blocks if lang == "hcl"), re.M):
            found.append(f"variable {name} is required but not in the runbook's required block")

    for address in re.findall(r"terraform (?:state rm|import)((?: aws_[a-z0-9_]+\.[a-z0-9_]+)+)", shell):
        for rtype, name in re.findall(r"(aws_[a-z0-9_]+)\.([a-z0-9_]+)", address):
            if name not in tf.resources.get(rtype, {}):
                found.append(f"resource {rtype}.{name}: not in infra/")

    targets = make_targets(root)
    for target in re.findall(r"\bmake ([a-z][\w-]*)", code):
        if target not in targets:
            found.append(f"make {target}: no such target")

    bundle = (root / "scripts" / "bundle.py").read_text(encoding="utf-8")
    for path in sorted(set(PATH.findall(code))):
        if path.startswith("dist/"):
            if Path(path).name not in bundle:
                found.append(f"{path}: not an artifact scripts/bundle.py writes")
        elif not (root / path).exists() and not _ignored(root, path):  # ignored: the operator's own
            found.append(f"{path}: no such file")

    for dotted in re.findall(r"^((?:images|accounts|common)(?:\.[a-z_]+)+)$", code, re.M):
        module, attribute = dotted.rsplit(".", 1)
        source = root / (module.replace(".", "/") + ".py")
        if not source.exists() or attribute not in top_level_functions(source):
            found.append(f"{dotted}: no such handler")

    commands = {p.stem for p in root.glob("*/management/commands/*.py") if p.stem != "__init__"}
    for command in re.findall(r"manage\.py ([a-z_]+)", code):
        if command not in commands | DJANGO_COMMANDS:
            found.append(f"manage.py {command}: no such command")

    # Names come from outputs: a default name in a command is wrong for any other `project`.
    project = tf.variables["project"]["default"]
    for line in shell.splitlines():
        if project in line and not line.lstrip().startswith("#"):
            found.append(f"hard-coded name in: {line.strip()}")
    return found


def test_the_runbook_names_only_what_exists():
    assert problems(DOC.read_text(encoding="utf-8"), terraform()) == []


def test_the_files_the_runbook_keeps_off_git_are_ignored():
    doc = DOC.read_text(encoding="utf-8")
    plans = re.findall(r"terraform plan -out=(\S+)", doc)
    assert plans
    for path in [*(f"infra/{p}" for p in plans), "infra/terraform.tfvars", "infra/prod.tfvars.json"]:
        assert _ignored(ROOT, path), f"{path} is not ignored by .gitignore"


def test_a_renamed_output_fails_it(tmp_path):
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    outputs = copy / "outputs.tf"
    outputs.write_text(outputs.read_text(encoding="utf-8").replace(
        'output "maintenance_function_name"', 'output "sweep_function_name"'), encoding="utf-8")
    found = problems(DOC.read_text(encoding="utf-8"), Terraform(copy))
    assert "terraform output maintenance_function_name: no such output in infra/" in found


def test_other_drift_fails_it():
    doc = DOC.read_text(encoding="utf-8")
    broken = doc + (
        "\n```sh\nmake deploy\naws secretsmanager get-secret-value --secret-id image-manager/django-secret-key\n"
        "python manage.py sweep --repair\nterraform import aws_dynamodb_table.pictures x\n```\n"
        "\n| `dynamodb_capacity` | `5` | gone |\n\nSee `infra/iam.tf.bak` and `images.api.upload_image`.\n"
    )
    found = problems(broken, terraform())
    for expected in ("make deploy", "hard-coded name", "manage.py sweep", "aws_dynamodb_table.pictures",
                     "variable dynamodb_capacity", "infra/iam.tf.bak", "images.api.upload_image"):
        assert any(expected in line for line in found), (expected, found)


def test_the_prerequisites_name_the_deployed_python_and_the_pinned_provider():
    runbook = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    deployed = re.search(r"^DEPLOYED_PYTHON := (\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
    provider = re.search(r'version\s*=\s*"([\d.]+)"', (INFRA / "versions.tf").read_text()).group(1)
    prerequisites = runbook.split("## Prerequisites", 1)[1].split("\n## ", 1)[0]
    assert f"- Python {deployed} and `make`" in prerequisites
    assert f"exactly {provider}" in prerequisites, "the runbook's Terraform prerequisite names another provider"
    assert "Terraform ≥ 1.11" in prerequisites
