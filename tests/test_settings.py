"""Production settings: fail fast without secrets, and pass Django's deployment checklist."""

import os
import secrets
import subprocess
import sys

import pytest

from local.stack import ROOT

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "image-site.example.com",
    "COGNITO_USER_POOL_ID": "us-east-1_Example",
    "COGNITO_CLIENT_ID": "exampleclient",
    "IMAGES_BUCKET": "example-images",
    "IMAGES_BASE_URL": "https://images.example.com",
    "CURSOR_SECRET": secrets.token_urlsafe(48),
    "AWS_REGION": "eu-west-1",
}


def check(env, *args):
    return subprocess.run([sys.executable, "manage.py", "check", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def test_production_settings_pass_check_deploy(tmp_path):
    env = {**os.environ, **PRODUCTION, "DJANGO_DB_PATH": str(tmp_path / "db.sqlite3")}
    result = check(env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "COGNITO_USER_POOL_ID",
                                  "COGNITO_CLIENT_ID", "IMAGES_BUCKET", "IMAGES_BASE_URL", "CURSOR_SECRET",
                                  "AWS_REGION"])
def test_production_settings_refuse_to_start_without_each_required_setting(tmp_path, name):
    env = {**os.environ, **PRODUCTION, "DJANGO_DB_PATH": str(tmp_path / "db.sqlite3")}
    del env[name]
    if name == "AWS_REGION":
        env.pop("AWS_DEFAULT_REGION", None)
    result = check(env)
    assert result.returncode != 0 and f"Set the environment variable {name}." in result.stderr
