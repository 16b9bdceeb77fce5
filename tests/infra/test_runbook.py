"""docs/deploy.md cannot drift from the code: every Terraform output, variable, resource
address, make target, file, handler and management command its commands and settings name
exists in infra/ and the repository; the files it keeps on the operator's machine are
ignored by git; its shell commands take names from Terraform outputs, never the defaults."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
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


# -- the restore to a minute, run with stand-ins ---------------------------------------------

# What the stand-in `terraform output` answers, and the environment's sizes `terraform console` gives.
FUNCTIONS = {"create_image": "two-create-image", "list_images": "two-list-images"}
SWEEP = "two-maintenance-function-name"  # `terraform output -raw maintenance_function_name`
SIZES = {"var.min_instances": "2", "var.max_instances": "4"}
CREATING_POLLS = 3  # each restored table answers CREATING this many times before ACTIVE

STAND_IN = r'''
import json, pathlib, sys
tool, args = sys.argv[1], sys.argv[2:]
folder = pathlib.Path(sys.argv[0]).parent
with open(folder / "calls.jsonl", "a") as log:
    log.write(json.dumps([tool, *args]) + "\n")
if tool == "terraform" and args[:2] == ["output", "-json"]:
    print(json.dumps(json.loads((folder / "functions.json").read_text())))
elif tool == "terraform" and args[:2] == ["output", "-raw"]:
    print("two-" + args[2].replace("_", "-"), end="")
elif tool == "terraform" and args[:1] == ["console"]:
    print(json.loads((folder / "sizes.json").read_text())[sys.stdin.read().strip()])
elif tool == "aws" and args[:2] == ["dynamodb", "describe-table"]:
    table = args[args.index("--table-name") + 1]
    polls = folder / f"polls-{table}"
    count = int(polls.read_text()) + 1 if polls.exists() else 1
    polls.write_text(str(count))
    print("ACTIVE" if count > int((folder / "creating").read_text()) else "CREATING")
'''


def section(doc: str, heading: str) -> str:
    """The text under a heading, up to the next heading of the same or a higher level."""
    level = len(heading.split(" ", 1)[0])
    lines, fenced = [], False
    for line in doc.split(heading + "\n", 1)[1].splitlines(keepends=True):
        fenced ^= line.startswith("```")
        if not fenced and re.match(r"#{1,%d} " % level, line):
            break
        lines.append(line)
    return "".join(lines)


def run_restore(doc: str, folder: Path) -> list[list[str]]:
    """The restore section's shell blocks run in order by bash with stand-ins for aws,
    terraform, python (restore_objects.py) and sleep; every call they made."""
    script = "\n".join(body for lang, body in FENCED.findall(section(doc, "### Restoring the catalog to a minute"))
                       if lang == "sh")
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "stand_in.py").write_text(STAND_IN, encoding="utf-8")
    (bin_dir / "functions.json").write_text(json.dumps({**FUNCTIONS}), encoding="utf-8")
    (bin_dir / "sizes.json").write_text(json.dumps(SIZES), encoding="utf-8")
    (bin_dir / "creating").write_text(str(CREATING_POLLS), encoding="utf-8")
    for tool in ("aws", "terraform", "python", "sleep"):
        path = bin_dir / tool
        path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{bin_dir / "stand_in.py"}" {tool} "$@"\n', encoding="utf-8")
        path.chmod(0o755)
    subprocess.run(["bash", "-e", "-c", script], cwd=folder, env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
                   check=True, timeout=60, capture_output=True)
    lines = (bin_dir / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def restore_problems(doc: str, tf: Terraform) -> list[str]:
    """What the runbook's restore gets wrong, from the calls its commands make."""
    found = []
    calls = run_restore(doc, Path(tempfile.mkdtemp()))
    at = {i: " ".join(call) for i, call in enumerate(calls)}

    def first(text: str) -> int:
        return min((i for i, line in at.items() if text in line), default=len(calls))

    def last(text: str) -> int:
        return max((i for i, line in at.items() if text in line), default=-1)

    # The catalog is every table of its own (the expiring ones are one for_each resource): all
    # restored, by output name.
    outputs = {body["value"]: name for name, body in tf.outputs.items()}
    catalog = {"two-" + outputs[f"${{aws_dynamodb_table.{name}.name}}"].replace("_", "-")
               for name, body in tf.resources["aws_dynamodb_table"].items() if "for_each" not in body}
    restored = {call[call.index("--source-table-name") + 1] for call in calls if "restore-table-to-point-in-time" in call}
    if restored != catalog:
        found.append(f"restores {sorted(restored)}, not the catalog's tables {sorted(catalog)}")
    restoring = first("restore-table-to-point-in-time")
    for function in [*FUNCTIONS.values(), SWEEP]:
        if first(f"put-function-concurrency --function-name {function} --reserved-concurrent-executions 0") > restoring:
            found.append(f"writes of {function} not stopped before the restore")
    if first("OptionName=MinSize,Value=0 Namespace=aws:autoscaling:asg,OptionName=MaxSize,Value=0") > restoring:
        found.append("the portal's writes not stopped before the restore")
    if any("wait table-exists" in line for line in at.values()):
        found.append("`aws dynamodb wait table-exists` gives up after about 8 minutes")
    for table in catalog:
        polls = sum(1 for call in calls if call[:2] == ["aws", "dynamodb"] and "describe-table" in call
                    and f"{table}-restored" in call)
        if polls != CREATING_POLLS + 1:
            found.append(f"{table}-restored: polled {polls} times, not until ACTIVE")
    switch = first("terraform apply")
    if switch < max(last("describe-table"), last("restore_objects.py")):
        found.append("the switch comes before the restores are done")
    for name in [n for n, body in tf.resources["aws_dynamodb_table"].items() if "for_each" not in body]:
        if last(f"aws_dynamodb_table.{name}") < 0 or first(f"terraform import aws_dynamodb_table.{name}") > switch:
            found.append(f"aws_dynamodb_table.{name} is not switched to its restored table")
    for function in [*FUNCTIONS.values(), SWEEP]:
        if last(f"delete-function-concurrency --function-name {function}") < switch:
            found.append(f"writes of {function} not let in again after the switch")
    if last("OptionName=MinSize,Value=2 Namespace=aws:autoscaling:asg,OptionName=MaxSize,Value=4") < switch:
        found.append("the portal's instances not given back after the switch")
    return found


def test_the_restore_stops_writes_restores_the_catalog_and_waits_for_it():
    assert restore_problems(DOC.read_text(encoding="utf-8"), terraform()) == []


def test_a_restore_without_the_history_or_the_wait_fails_it():
    doc = DOC.read_text(encoding="utf-8")
    broken = doc.replace('for TABLE in "$IMAGES" "$TERMS" "$HISTORY"; do\n    aws dynamodb restore',
                         'for TABLE in "$IMAGES" "$TERMS"; do\n    aws dynamodb restore')
    assert broken != doc
    loop = re.search(r"for TABLE in [^\n]*\n    until .*?\n    done\ndone\n", broken, re.S).group()
    broken = broken.replace(loop, 'for TABLE in "$IMAGES" "$TERMS" "$HISTORY"; do\n'
                                  '    aws dynamodb wait table-exists --table-name "$TABLE-restored"\ndone\n')
    found = restore_problems(broken, terraform())
    assert any("not the catalog's tables" in f and "image-history" in f for f in found), found
    assert any("wait table-exists" in f for f in found), found
    assert any("polled 0 times" in f for f in found), found


def test_the_teardown_turns_every_access_log_off_before_emptying():
    """Emptying a bucket that logs its accesses fills the logs bucket: the teardown's targeted
    destroy names every logging of infra/, before the buckets are emptied."""
    teardown = section(DOC.read_text(encoding="utf-8"), "## Tearing down")
    logging_off = re.search(r"terraform destroy((?: -target=\S+?)+)`", teardown)
    assert logging_off, "the teardown does not turn access logging off"
    targets = set(re.findall(r"-target=(\S+)", logging_off.group(1)))
    assert targets == {f"aws_s3_bucket_logging.{name}" for name in terraform().resources["aws_s3_bucket_logging"]}
    assert logging_off.start() < teardown.index("delete-objects")
    assert "deletion_protection = false" in teardown.split("\n2. ", 1)[0]  # step 1: force_destroy of the logs
