"""Shared fixtures. The environment is set before any project module is imported: dummy AWS
credentials, a fixed region and no endpoint, so boto3 and PynamoDB talk to moto's in-process
mock_aws in unit tests and never to AWS."""

from __future__ import annotations

import os

from portal.local.stack import LOCAL_AWS_ENV

os.environ.update(LOCAL_AWS_ENV)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

from common.config import get_config  # noqa: E402
from portal.local import cognito_checks  # noqa: E402

cognito_checks.install()


@pytest.fixture
def aws(monkeypatch):
    """In-process AWS (moto) with the stack's resources made as `make run` makes them."""
    import pathlib

    import moto.cognitoidp

    from portal.local import bootstrap

    # moto signs tokens with the key pair it ships; its public half is the pool's JWKS here.
    jwks = pathlib.Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json"
    monkeypatch.setenv("COGNITO_JWKS_URL", jwks.as_uri())
    with mock_aws():
        get_config.cache_clear()
        ids = bootstrap.ensure_stack()
        for name, value in ids.items():
            monkeypatch.setenv(name, value)
        get_config.cache_clear()
        yield get_config()
    get_config.cache_clear()
