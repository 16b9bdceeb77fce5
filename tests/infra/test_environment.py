"""Every environment variable the code reads is set, under the same name, for every Lambda
function and for Beanstalk."""

from __future__ import annotations

import ast
import importlib.util

from tests.infra.hcl import ROOT, environment_names, single, terraform

CONFIG = ROOT / "common" / "config.py"
PRODUCTION = ROOT / "portal" / "settings" / "production.py"

LOCAL_ONLY = {"AWS_ENDPOINT_URL"}  # the emulator; never set in AWS
FALLBACKS = {"AWS_DEFAULT_REGION"}  # read only when AWS_REGION is missing
LAMBDA_RESERVED = {"AWS_REGION", "AWS_DEFAULT_REGION"}  # set by the Lambda runtime, refused in config
DJANGO = {"DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"}
# Read by common/config.py for the scheduled sweep only (infra/maintenance.tf): the API
# functions and the portal leave them at their defaults.
SWEEP_ONLY = {"SWEEP_GRACE_MINUTES", "SWEEP_REPAIR"}
# The cursor-signing key: Beanstalk passes the secret's value (environment secrets), the
# Lambdas get the secret's ARN and read it themselves (cached).
PORTAL_SECRET_ONLY = {"CURSOR_SECRET"}
LAMBDA_SECRET_ARN_ONLY = {"CURSOR_SECRET_ARN"}
# API Gateway's hop in front of the API functions; the scheduled sweep has no client address.
API_ONLY = {"TRUSTED_PROXY_HOPS", "CURSOR_SECRET_ARN"}

_spec = importlib.util.spec_from_file_location("bundle", ROOT / "scripts" / "bundle.py")
bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle)


def core_names() -> set[str]:
    names = environment_names(CONFIG)
    # The parse must find the contract's names, or the checks below would pass vacuously.
    assert {"AWS_REGION", "IMAGES_TABLE", "IMAGE_MAX_BYTES", "API_SIGNUP_REQUIRES_CONFIRMATION"} <= names
    return names


def production_required() -> set[str]:
    """Names production settings refuse to start without (required("X"), also in loops)."""
    tree = ast.parse(PRODUCTION.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "required":
            if node.args and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
            calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "required"]
            if calls:
                names.update(e.value for e in node.iter.elts if isinstance(e, ast.Constant))
    return names


def test_environment_names_are_parsed():
    assert "COGNITO_CLIENT_ID" in core_names()
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "IMAGES_BUCKET"} <= production_required()


def test_every_lambda_gets_every_core_variable():
    tf = terraform()
    function = tf.resource("aws_lambda_function", "api")
    assert single(function["environment"])["variables"] == "${local.lambda_environment}"
    assert tf.locals["lambda_environment"] == "${merge(local.core_environment, local.lambda_only_environment)}"
    names = set(tf.locals["core_environment"]) | set(tf.locals["lambda_only_environment"])
    assert names == core_names() - LOCAL_ONLY - FALLBACKS - LAMBDA_RESERVED - SWEEP_ONLY - PORTAL_SECRET_ONLY
    assert not names & LAMBDA_RESERVED, "Lambda refuses reserved names such as AWS_REGION"


def test_beanstalk_gets_every_core_and_django_variable():
    tf = terraform()
    assert tf.locals["portal_environment"] == "${merge(local.core_environment, local.portal_only_environment)}"
    properties = set(tf.locals["core_environment"]) | set(tf.locals["portal_only_environment"])
    secrets = set(tf.locals["portal_secrets"])
    environment = tf.resource("aws_elastic_beanstalk_environment", "portal")
    namespaces = {d["setting"]["for_each"]: d["setting"]["content"][0]["namespace"] for d in environment["dynamic"]}
    assert namespaces == {
        "${local.portal_environment}": "aws:elasticbeanstalk:application:environment",
        "${local.portal_secrets}": "aws:elasticbeanstalk:application:environmentsecrets",
    }
    expected = (core_names() - LOCAL_ONLY - FALLBACKS - SWEEP_ONLY - LAMBDA_SECRET_ARN_ONLY) | DJANGO | production_required()
    assert expected <= properties | secrets, expected - properties - secrets
    assert tf.locals["portal_only_environment"]["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
    assert not (LOCAL_ONLY & (properties | secrets))
    assert tf.locals["portal_secrets"]["CURSOR_SECRET"] == "${aws_secretsmanager_secret.cursor_secret.arn}"


def test_django_secret_is_never_a_plain_value():
    tf = terraform()
    assert "DJANGO_SECRET_KEY" not in tf.locals["portal_only_environment"]
    assert tf.locals["portal_secrets"]["DJANGO_SECRET_KEY"] == "${aws_secretsmanager_secret.django_secret_key.arn}"
    version = tf.resource("aws_secretsmanager_secret_version", "django_secret_key")
    assert "secret_string" not in version  # write-only: never in the state
    assert version["secret_string_wo"] == "${ephemeral.aws_secretsmanager_random_password.django_secret_key.random_password}"


def imported_modules(module: str) -> dict[str, object]:
    """A core module and every core module it imports, directly or not: name -> path."""
    graph = bundle.module_graph()
    seen, todo = {}, [module]
    while todo:
        name = todo.pop()
        if name in seen or name not in graph:
            continue
        path, imported = graph[name]
        seen[name] = ROOT / path
        # `from x import y` gives x.y, which is a module or a name inside x; parents run too.
        for other in imported:
            todo += [other, other.rpartition(".")[0]]
        todo += [".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)]
    return seen


def test_the_sweep_function_gets_every_variable_its_code_reads():
    tf = terraform()
    function = tf.resource("aws_lambda_function", "maintenance")
    assert single(function["environment"])["variables"] == "${local.maintenance_environment}"
    assert tf.locals["maintenance_environment"] == "${merge(local.core_environment, local.maintenance_only_environment)}"
    assert set(tf.locals["maintenance_only_environment"]) == SWEEP_ONLY
    modules = imported_modules("images.maintenance")
    # The walk must reach the sweep and the configuration, or the check would pass vacuously.
    assert {"images.maintenance", "images.sweep", "images.catalog", "images.objects", "common.config"} <= modules.keys()
    read = set().union(*(environment_names(path) for path in modules.values()))
    assert SWEEP_ONLY <= read and "IMAGES_BUCKET" in read
    names = set(tf.locals["core_environment"]) | set(tf.locals["maintenance_only_environment"])
    missing = read - LOCAL_ONLY - FALLBACKS - LAMBDA_RESERVED - API_ONLY - PORTAL_SECRET_ONLY - names
    assert not missing, f"read by images.maintenance or what it imports, not set for the function: {missing}"
    assert not names & (LAMBDA_RESERVED | LOCAL_ONLY)


def test_the_sweep_variables_default_to_the_codes_defaults(monkeypatch):
    from common.config import get_config

    tf = terraform()
    for name in SWEEP_ONLY:
        monkeypatch.delenv(name, raising=False)
    get_config.cache_clear()
    try:
        config = get_config()
    finally:
        get_config.cache_clear()
    assert tf.literal(tf.locals["maintenance_only_environment"]["SWEEP_GRACE_MINUTES"]) == config.sweep_grace_minutes
    assert tf.locals["maintenance_only_environment"]["SWEEP_REPAIR"] == '${var.sweep_repair ? "true" : "false"}'
    assert tf.default("sweep_repair") is config.sweep_repair is True
