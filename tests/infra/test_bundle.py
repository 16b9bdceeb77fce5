"""scripts/bundle.py builds reproducible artifacts: the Lambda zip holds exactly the
Django-free core, the Beanstalk bundle the portal, and the layer's pins match base.txt."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import zipfile
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.infra.hcl import ROOT, terraform

spec = importlib.util.spec_from_file_location("bundle", ROOT / "scripts" / "bundle.py")
bundle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bundle)

CORE = set(bundle.CORE_PACKAGES)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    for out in (first, second):
        bundle.build_portal(out)
        bundle.build_code(out)
    return first, second


def test_two_builds_are_byte_identical(built):
    first, second = built
    for name in ("portal-bundle.zip", "lambda-code.zip"):
        assert sha256(first / name) == sha256(second / name), name


def test_entries_are_sorted_with_fixed_timestamps(built):
    with zipfile.ZipFile(built[0] / "lambda-code.zip") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {bundle.ZIP_DATE}


def _imports(name: str, source: str) -> set[str]:
    return bundle._imports(source, name.removesuffix("/__init__.py").removesuffix(".py").replace("/", "."),
                           name.endswith("__init__.py"), name)


def test_lambda_code_is_the_django_free_core_with_every_handler(built):
    with zipfile.ZipFile(built[0] / "lambda-code.zip") as archive:
        names = archive.namelist()
        files = {name: archive.read(name).decode() for name in names if not name.endswith(".pyc")}
    assert {"common/config.py", "images/api/images.py", "images/api/trash.py", "images/records.py",
            "accounts/records.py"} <= files.keys()
    for name in files:
        assert name.split("/")[0] in CORE and name.endswith(".py"), name
    # Beside each module its bytecode for the deployed Python, and nothing else.
    assert sorted(n for n in names if n.endswith(".pyc")) == sorted(
        importlib.util.cache_from_source(n) for n in files)
    modules = {n.removesuffix("/__init__.py").removesuffix(".py").replace("/", ".") for n in files}
    stdlib = set(sys.stdlib_module_names)
    third_party = set()
    for name, source in files.items():
        for imported in _imports(name, source):
            top = imported.split(".")[0]
            assert top not in bundle.DJANGO_ROOTS, f"{name} imports {imported}"
            if top in CORE:
                # Either a packaged module or a name inside one (from x import y).
                assert imported in modules or imported.rpartition(".")[0] in modules, f"{name}: {imported} not packaged"
            elif top not in stdlib and top != "__future__":
                third_party.add(top)
    # Every third-party import comes from the layer.
    pins = bundle.pinned(ROOT / "requirements" / "lambda.txt")
    providers = packages_distributions()
    for top in sorted(third_party):
        dists = {bundle._normalise(d) for d in providers.get(top, [])}
        assert dists & pins.keys(), f"{top} is imported by the Lambda code but not in requirements/lambda.txt"


def test_every_handler_module_in_the_route_table_is_packaged(built):
    with zipfile.ZipFile(built[0] / "lambda-code.zip") as archive:
        names = set(archive.namelist())
    tf = terraform()
    handlers = [spec["handler"] for spec in tf.locals["functions"].values()]
    handlers.append(tf.resource("aws_lambda_function", "maintenance")["handler"])  # the scheduled sweep
    for handler in handlers:
        module = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
        if (ROOT / module).exists():
            assert module in names, module
    assert "images/maintenance.py" in names


def test_an_api_module_importing_django_fails_the_build(tmp_path):
    for package in CORE:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "images" / "views.py").write_text("from django.http import HttpResponse\n")
    (tmp_path / "images" / "helpers.py").write_text("from . import views\n")
    (tmp_path / "images" / "core.py").write_text("import json\n")
    (tmp_path / "images" / "api").mkdir()
    (tmp_path / "images" / "api" / "__init__.py").write_text("")
    (tmp_path / "images" / "api" / "images.py").write_text("from images.core import json\n")
    kept = {p.as_posix() for p in bundle.lambda_modules(tmp_path)}
    assert "images/core.py" in kept and "images/api/images.py" in kept
    assert "images/views.py" not in kept and "images/helpers.py" not in kept  # transitively Django
    (tmp_path / "images" / "api" / "images.py").write_text("from images import helpers\n")
    with pytest.raises(SystemExit, match="must not import Django"):
        bundle.lambda_modules(tmp_path)
    # The scheduled sweep's handler is held to the same rule.
    (tmp_path / "images" / "api" / "images.py").write_text("from images.core import json\n")
    (tmp_path / "images" / "maintenance.py").write_text("from images import views\n")
    with pytest.raises(SystemExit, match="images.maintenance"):
        bundle.lambda_modules(tmp_path)


def test_portal_bundle_is_a_beanstalk_source_bundle(built):
    with zipfile.ZipFile(built[0] / "portal-bundle.zip") as archive:
        names = set(archive.namelist())
        requirements = archive.read("requirements.txt")
        procfile = archive.read("Procfile")
    assert {"manage.py", "Procfile", "requirements.txt", "portal/wsgi.py", "common/config.py",
            "infra/openapi.yaml"} <= names
    assert {f".ebextensions/{p.name}" for p in (ROOT / ".ebextensions").glob("*.config")} <= names
    assert requirements == (ROOT / "requirements" / "base.txt").read_bytes()
    assert procfile == (ROOT / "Procfile").read_bytes()
    for name in names:
        parts = name.split("/")
        assert "__pycache__" not in parts and "tests" not in parts and not name.endswith(".pyc"), name
        assert parts[0] in {"manage.py", "Procfile", "requirements.txt", "portal", "images", "accounts",
                            "common", ".ebextensions", ".platform"} or name == "infra/openapi.yaml", name


def test_layer_pins_the_same_versions_as_the_portal():
    layer = bundle.pinned(ROOT / "requirements" / "lambda.txt")
    base = bundle.pinned(ROOT / "requirements" / "base.txt")
    assert {"pynamodb", "pillow", "pyjwt", "cryptography", "pycognito", "boto3"} <= layer.keys()
    for name, version in layer.items():
        assert base.get(name) == version, f"{name}: lambda.txt {version}, base.txt {base.get(name)}"
    assert "django" not in layer


def test_terraform_reads_the_artifacts_where_the_bundler_writes_them():
    tf = terraform()
    assert tf.default("lambda_code_zip") == "../dist/lambda-code.zip"
    assert tf.default("lambda_layer_zip") == "../dist/lambda-layer.zip"
    assert tf.default("portal_bundle_zip") == "../dist/portal-bundle.zip"
    assert tf.default("lambda_runtime") == f"python{bundle.LAYER_PYTHON}"
