"""What is tested is what is deployed: the Python running the tests is the one the Lambdas
(lambda_runtime), their layer's wheels and bytecode (scripts/bundle.py) and the Beanstalk
platform (solution_stack_name) run, and the one the Makefile makes .venv with."""

from __future__ import annotations

import importlib.util
import re
import sys

from tests.infra.hcl import ROOT, single, terraform


def test_the_tests_run_on_the_deployed_python():
    spec = importlib.util.spec_from_file_location("bundle_for_runtime", ROOT / "scripts" / "bundle.py")
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    running = "%d.%d" % sys.version_info[:2]
    tf = terraform()
    assert tf.default("lambda_runtime") == f"python{running}"
    assert bundle.LAYER_PYTHON == running
    condition = single(tf.variables["solution_stack_name"]["validation"])["condition"]
    assert f"running Python {running.replace('.', '[.]')}" in condition.replace("\\\\.", "[.]")
    assert re.search(rf"^DEPLOYED_PYTHON := {re.escape(running)}$", (ROOT / "Makefile").read_text(), re.M)
