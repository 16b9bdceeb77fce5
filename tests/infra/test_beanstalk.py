"""The portal's Beanstalk environment has the seed's settings: load-balanced with HTTPS and
HTTP redirected, at least two instances, CPU 70/30 over 5 minutes, t3.medium."""

from __future__ import annotations

import re
import shlex

import yaml
from gunicorn.config import Config

from tests.infra.hcl import ROOT, single, terraform

EBEXTENSIONS = ROOT / ".ebextensions"


def settings() -> dict[tuple[str, str], object]:
    tf = terraform()
    environment = tf.resource("aws_elastic_beanstalk_environment", "portal")
    return {(s["namespace"], s["name"]): tf.literal(s["value"]) for s in environment["setting"]}


def ebextensions() -> dict[str, dict]:
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(EBEXTENSIONS.glob("*.config"))}


def test_load_balanced_application_load_balancer():
    found = settings()
    assert found[("aws:elasticbeanstalk:environment", "EnvironmentType")] == "LoadBalanced"
    assert found[("aws:elasticbeanstalk:environment", "LoadBalancerType")] == "application"


def test_at_least_two_instances_across_zones():
    found = settings()
    assert int(found[("aws:autoscaling:asg", "MinSize")]) >= 2
    assert int(found[("aws:autoscaling:asg", "MaxSize")]) >= int(found[("aws:autoscaling:asg", "MinSize")])
    tf = terraform()
    assert "var.min_instances >= 2" in single(tf.variables["min_instances"]["validation"])["condition"]
    for variable in ("instance_subnet_ids", "elb_subnet_ids"):
        assert ">= 2" in single(tf.variables[variable]["validation"])["condition"]


def test_the_seeds_cpu_triggers():
    found = settings()
    trigger = {name: value for (namespace, name), value in found.items() if namespace == "aws:autoscaling:trigger"}
    assert trigger == {
        "MeasureName": "CPUUtilization",
        "Statistic": "Average",
        "Unit": "Percent",
        "Period": "5",
        "EvaluationPeriods": "1",
        "BreachDuration": "5",
        "UpperThreshold": "70",
        "UpperBreachScaleIncrement": "1",
        "LowerThreshold": "30",
        "LowerBreachScaleIncrement": "-1",
    }


def test_instance_type_defaults_to_t3_medium():
    assert settings()[("aws:ec2:instances", "InstanceTypes")] == "t3.medium"


def test_https_listener_with_the_acm_certificate():
    found = settings()
    assert found[("aws:elbv2:listener:443", "Protocol")] == "HTTPS"
    assert found[("aws:elbv2:listener:443", "ListenerEnabled")] == "true"
    assert found[("aws:elbv2:listener:443", "SSLCertificateArns")] == "${aws_acm_certificate_validation.main.certificate_arn}"
    assert found[("aws:elbv2:listener:443", "SSLPolicy")].startswith("ELBSecurityPolicy-TLS13")
    certificate = terraform().resource("aws_acm_certificate", "main")
    assert certificate["validation_method"] == "DNS"
    assert certificate["domain_name"] == "${var.domain_name}"
    assert certificate["subject_alternative_names"] == ["*.${var.domain_name}"]


def test_http_is_redirected_to_https():
    listener = ebextensions()["03_https_redirect.config"]["Resources"]["AWSEBV2LoadBalancerListener"]
    assert listener["Type"] == "AWS::ElasticLoadBalancingV2::Listener"
    properties = listener["Properties"]
    assert (properties["Port"], properties["Protocol"]) == (80, "HTTP")
    (action,) = properties["DefaultActions"]
    assert action["Type"] == "redirect"
    assert action["RedirectConfig"]["Protocol"] == "HTTPS"
    assert action["RedirectConfig"]["StatusCode"] == "HTTP_301"


def test_health_check_path_agrees_everywhere():
    found = settings()
    assert found[("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath")] == "/healthz"
    process = ebextensions()["01_python.config"]["option_settings"]["aws:elasticbeanstalk:environment:process:default"]
    assert process["HealthCheckPath"] == "/healthz"


def test_health_checks_reach_django_with_an_allowed_host():
    conf = (ROOT / ".platform/nginx/conf.d/elasticbeanstalk/healthz.conf").read_text(encoding="utf-8")
    assert "location = /healthz" in conf and "proxy_set_header   Host localhost;" in conf
    hosts = terraform().locals["portal_only_environment"]["DJANGO_ALLOWED_HOSTS"]
    assert hosts.split(",") == ["${local.portal_host}", "localhost"]


def test_versions_are_kept_for_rollback():
    application = terraform().resource("aws_elastic_beanstalk_application", "portal")
    lifecycle = single(application["appversion_lifecycle"])
    assert lifecycle["delete_source_from_s3"] is False
    assert terraform().literal(lifecycle["max_count"]) >= 10
    environment = terraform().resource("aws_elastic_beanstalk_environment", "portal")
    # Versions are deployed and rolled back with the CLI (docs/deploy.md), not replaced by
    # Terraform; the platform moves by managed updates or on purpose, never by a plan.
    assert single(environment["lifecycle"])["ignore_changes"] == ["version_label", "solution_stack_name"]


def test_the_platform_is_an_explicit_python_312_choice():
    tf = terraform()
    variable = tf.variables["solution_stack_name"]
    assert "default" not in variable  # the operator chooses it; no "newest" lookup at plan time
    assert "aws_elastic_beanstalk_solution_stack" not in tf.data
    environment = tf.resource("aws_elastic_beanstalk_environment", "portal")
    assert environment["solution_stack_name"] == "${var.solution_stack_name}"
    regex = re.search(r'regex\("(.+)", var\.solution_stack_name\)', single(variable["validation"])["condition"]).group(1)
    regex = regex.replace("\\\\", "\\")
    assert re.match(regex, "64bit Amazon Linux 2023 v4.7.0 running Python 3.12")
    assert not re.match(regex, "64bit Amazon Linux 2023 v4.7.0 running Python 3.13")
    assert not re.match(regex, "64bit Amazon Linux 2 v3.9.0 running Python 3.8")
    # Managed updates stay on, in a stated window.
    assert settings()[("aws:elasticbeanstalk:managedactions", "ManagedActionsEnabled")] == "true"


def test_procfile_runs_gunicorn_where_the_platforms_nginx_forwards():
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8").strip().splitlines()
    assert procfile == ["web: gunicorn portal.wsgi:application --bind 127.0.0.1:8000 --workers 3"]
    python = ebextensions()["01_python.config"]["option_settings"]
    assert python["aws:elasticbeanstalk:container:python"]["WSGIPath"] == "portal.wsgi:application"
    assert python["aws:elasticbeanstalk:environment:proxy:staticfiles"] == {"/static": "staticfiles"}


def test_every_instance_migrates_and_collects_static():
    commands = ebextensions()["02_django.config"]["container_commands"]
    migrate = [c for c in commands.values() if "manage.py migrate --noinput" in c["command"]]
    collect = [c for c in commands.values() if "manage.py collectstatic --noinput" in c["command"]]
    assert len(migrate) == len(collect) == 1
    assert migrate[0]["leader_only"] is False and collect[0]["leader_only"] is False
    # The database file lives where the instance's data directory is prepared.
    assert terraform().locals["portal_db_path"].startswith("/var/app/data/")


def test_instances_use_imdsv2_and_the_scoped_profile():
    found = settings()
    assert found[("aws:autoscaling:launchconfiguration", "DisableIMDSv1")] == "true"
    assert found[("aws:autoscaling:launchconfiguration", "IamInstanceProfile")] == "${aws_iam_instance_profile.portal.name}"


# The longest request the portal serves: registering an upload at both limits (a 199 MB,
# 49.8 MP RGBA PNG), `scripts/measure_verify_memory.py --megabytes 190 --mode RGBA`: 3.2 to
# 3.4 s on the idle shared 2-core test machine (3 runs, 2026-12-05), 4 to 8 s on a busier one.
LONGEST_REQUEST_SECONDS = 8


def gunicorn_timeout() -> int:
    """The worker timeout of the Procfile's gunicorn, as gunicorn's own parser reads it."""
    (line,) = [l for l in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines() if l.startswith("web:")]
    args = shlex.split(line.removeprefix("web:"))
    assert args[0] == "gunicorn"
    assert not (ROOT / "gunicorn.conf.py").exists()  # gunicorn would read it from the working directory
    config = Config()
    parsed = config.parser().parse_args(args[1:])
    for name, value in vars(parsed).items():
        if value is not None and name in config.settings:
            config.set(name, value)
    return config.timeout


def test_timeouts_fit_the_longest_request():
    """gunicorn's worker timeout is well above the longest request measured, and the load
    balancer's idle timeout above gunicorn's: gunicorn, not the load balancer, ends a request
    that runs too long."""
    worker = gunicorn_timeout()
    idle = int(settings()[("aws:elbv2:loadbalancer", "IdleTimeout")])
    assert worker >= 3 * LONGEST_REQUEST_SECONDS, worker
    assert worker < idle < 60, (worker, idle)  # 60: the platform nginx's keepalive_timeout


def test_the_environment_waits_for_its_roles_policies():
    """Every policy of the instance role and of the service role is in place before the
    environment starts (a reference to a role waits for the role only)."""
    tf = terraform()
    waits = set(tf.resource("aws_elastic_beanstalk_environment", "portal")["depends_on"])
    roles = {"portal", "eb_service"}
    assert settings()[("aws:autoscaling:launchconfiguration", "IamInstanceProfile")] == \
        "${aws_iam_instance_profile.portal.name}"
    assert tf.resource("aws_iam_instance_profile", "portal")["role"] == "${aws_iam_role.portal.name}"
    assert settings()[("aws:elasticbeanstalk:environment", "ServiceRole")] == "${aws_iam_role.eb_service.arn}"
    policies = {f"${{{kind}.{name}}}" for kind in ("aws_iam_role_policy", "aws_iam_role_policy_attachment")
                for name, body in tf.resources.get(kind, {}).items()
                if re.fullmatch(r"\$\{aws_iam_role\.(\w+)\.(id|name)\}", body["role"])
                and re.fullmatch(r"\$\{aws_iam_role\.(\w+)\.(id|name)\}", body["role"]).group(1) in roles}
    assert len(policies) == 3 and policies <= waits, policies - waits
