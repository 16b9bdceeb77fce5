"""What it takes to apply infra/ to the local emulator (moto's server on loopback), kept out of
infra/: the provider pointed at the emulator, the few text edits moto needs, the resources moto
cannot make (each with its reason; they get a plan-only check), and test-only variables."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import boto3

from local.stack import free_port, wait_for_port

# Every AWS service infra/ talks to, as the provider's `endpoints` block names them.
SERVICES = ("acm", "apigateway", "cloudfront", "cloudwatch", "logs", "cognitoidp", "dynamodb", "ec2",
            "elasticbeanstalk", "events", "iam", "kms", "lambda", "route53", "s3", "secretsmanager", "sns", "sts")
MANAGED_CACHE_POLICY = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS's Managed-CachingOptimized, a fixed id
STAND_IN_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"  # AWS's managed SecurityHeadersPolicy id

# Resources left out of the apply, and why. Each is still in the full plan (checked).
LEFT_OUT = {
    "aws_cloudfront_response_headers_policy.images":
        "moto has no CreateResponseHeadersPolicy (the distribution is given a managed policy's id)",
    "aws_s3_bucket_logging.images":
        "moto refuses log delivery granted by the logs bucket's policy (InvalidTargetBucketForLogging)",
    "aws_s3_bucket_logging.artifacts": "the same",
    "aws_elastic_beanstalk_application.portal":
        "moto has no UpdateApplicationResourceLifecycle (the application's version lifecycle)",
    "aws_elastic_beanstalk_application_version.initial": "needs the application",
    "aws_elastic_beanstalk_environment.portal": "needs the application version",
    "aws_cloudwatch_metric_alarm.portal_health": "names the environment",
    "aws_route53_record.portal": "points at the environment's CNAME",
}


def provider_override(endpoint: str) -> str:
    """Both providers (the region's and us-east-1's) pointed at the emulator."""
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    blocks = []
    for alias in (None, "us_east_1"):
        blocks.append(
            'provider "aws" {\n' + (f'  alias = "{alias}"\n' if alias else "")
            + '  region                      = "us-east-1"\n  access_key                  = "test"\n'
            '  secret_key                  = "test"\n  skip_credentials_validation = true\n'
            '  skip_requesting_account_id  = true\n  skip_metadata_api_check     = true\n'
            '  s3_use_path_style           = true\n  max_retries                 = 1\n'
            f"  endpoints {{\n{endpoints}\n  }}\n}}\n")
    return "# Test only (tests/infra/terraform_emulator.py): the local emulator, not AWS.\n" + "\n".join(blocks)


def edit_for_moto(folder: Path) -> None:
    """moto has neither GetCachePolicy/ListCachePolicies nor CreateResponseHeadersPolicy: the
    managed cache policy's fixed id replaces the lookup, and a managed headers policy's id the
    project's own (which stays in the plan-only check)."""
    for path in folder.glob("*.tf"):
        text = original = path.read_text(encoding="utf-8")
        text = re.sub(r'data "aws_cloudfront_cache_policy" "caching_optimized" \{[^}]*\}\n', "", text)
        text = text.replace("data.aws_cloudfront_cache_policy.caching_optimized.id", f'"{MANAGED_CACHE_POLICY}"')
        text = text.replace("aws_cloudfront_response_headers_policy.images.id", f'"{STAND_IN_HEADERS_POLICY}"')
        if text != original:
            path.write_text(text, encoding="utf-8")


class Emulator:
    """moto's server on a free loopback port, stopped on exit."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = {"PATH": "/usr/bin:/bin", "MOTO_ACM_VALIDATION_WAIT": "1", "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
        self.log = open(workdir / "moto.log", "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, process=self.process)

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


def prepare(emulator: Emulator, infra: Path, folder: Path, dist: Path) -> None:
    """infra/ copied to `folder` for the emulator: overrides, edits, inputs an operator brings
    (a VPC with subnets in two zones, a hosted zone) and dummy bundles (moto never runs them)."""
    shutil.copytree(infra, folder, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    (folder / "emulator_override.tf").write_text(provider_override(emulator.endpoint), encoding="utf-8")
    edit_for_moto(folder)
    ec2 = emulator.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"us-east-1{zone}")
               ["Subnet"]["SubnetId"] for n, zone in ((1, "a"), (2, "b"))]
    emulator.client("route53").create_hosted_zone(Name="example.org", CallerReference="terraform-test")
    dist.mkdir(parents=True, exist_ok=True)
    import zipfile

    for name in ("lambda-code.zip", "lambda-layer.zip", "portal-bundle.zip"):
        with zipfile.ZipFile(dist / name, "w") as archive:
            archive.writestr("placeholder.txt", "moto never runs the code")
    listed = ", ".join(f'"{s}"' for s in subnets)
    (folder / "emulator.auto.tfvars").write_text(
        'domain_name = "example.org"\n'
        f'vpc_id = "{vpc}"\ninstance_subnet_ids = [{listed}]\nelb_subnet_ids = [{listed}]\n'
        'solution_stack_name = "64bit Amazon Linux 2023 v4.7.0 running Python 3.12"\n'
        f'lambda_code_zip = "{dist / "lambda-code.zip"}"\nlambda_layer_zip = "{dist / "lambda-layer.zip"}"\n'
        f'portal_bundle_zip = "{dist / "portal-bundle.zip"}"\n'
        "# A test stack is torn down at once (docs/deploy.md, \"Tearing down\", does the same).\n"
        "deletion_protection = false\n", encoding="utf-8")
