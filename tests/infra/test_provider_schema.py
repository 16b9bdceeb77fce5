"""The Terraform is checked against the pinned AWS provider's schema, offline: an unknown
resource type, argument or nested block fails here with its file and line, not at an
operator's `terraform validate`. The schema is tests/infra/aws_provider_schema.json, made by
scripts/provider_schema.py from the provider's generated bindings (cdktf-cdktf-provider-aws)."""

from __future__ import annotations

import importlib.util
import re
import shutil

import pytest

from tests.infra.hcl import INFRA, ROOT
from tests.infra.provider_schema import check_directory, load_schema, pinned_provider_version

_spec = importlib.util.spec_from_file_location("provider_schema_script", ROOT / "scripts" / "provider_schema.py")
extractor = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extractor)


@pytest.fixture(scope="module")
def schema():
    return load_schema()


def test_every_resource_argument_and_block_of_infra_is_in_the_provider(schema):
    assert check_directory(INFRA, schema) == []


def test_the_provider_is_pinned_to_the_version_checked(schema):
    assert schema["package"] == extractor.PACKAGE
    assert pinned_provider_version(INFRA / "versions.tf") == schema["version"]
    assert len(schema["resource"]) > 1000 and "aws_lambda_function" in schema["resource"]


@pytest.mark.parametrize("file, old, new, expected", [
    ("lambda.tf", "  runtime ", "  runtme ", "runtme: no such argument"),
    ("lambda.tf", "    variables = ", "    variabels = ", "variabels: no such argument"),  # in environment {}
    ("dynamodb.tf", "point_in_time_recovery {", "point_in_time_recovry {", "point_in_time_recovry: no such block"),
    ("s3.tf", 'resource "aws_s3_bucket" ', 'resource "aws_s3_bukket" ', "resource type aws_s3_bukket: not in"),
    ("beanstalk.tf", 'namespace = "aws:elasticbeanstalk:application:environment"',  # in a dynamic block
     'name_space = "aws:elasticbeanstalk:application:environment"', "name_space: no such argument"),
])
def test_a_misspelt_name_fails_with_its_file_and_line(tmp_path, schema, file, old, new, expected):
    copy = tmp_path / "infra"
    shutil.copytree(INFRA, copy)
    source = (copy / file).read_text(encoding="utf-8")
    assert old in source, f"{file} no longer has {old!r}: pick another name to misspell"
    line = source[: source.index(old)].count("\n") + 1
    (copy / file).write_text(source.replace(old, new, 1), encoding="utf-8")
    problems = check_directory(copy, schema)
    assert len(problems) == 1, problems
    assert re.fullmatch(rf"infra/{re.escape(file)}:{line}: .*", problems[0]), (problems, line)
    assert expected in problems[0]


def test_the_extractor_reads_generated_bindings():
    source = '''
function thingTimeoutsToHclTerraform(struct) {
    const attrs = {
        create: {
            value: cdktf.stringToHclTerraform(struct.create),
            isBlock: false,
            type: "simple",
        },
    };
}
class Thing extends cdktf.TerraformResource {
    synthesizeHclAttributes() {
        const attrs = {
            name: {
                value: cdktf.stringToHclTerraform(this._name),
                isBlock: false,
                type: "simple",
            },
            timeouts: {
                value: thingTimeoutsToHclTerraform(this._timeouts.internalValue),
                isBlock: true,
                type: "struct",
            },
        };
    }
}
Thing.tfResourceType = "aws_thing";
'''
    assert extractor.parse_module(source) == (
        "aws_thing", {"arguments": ["name"], "blocks": {"timeouts": {"arguments": ["create"], "blocks": {}}}},
    )
