# The portal on Elastic Beanstalk: Python platform behind an Application Load Balancer with
# HTTPS (HTTP is redirected by .ebextensions/03_https_redirect.config), at least two
# instances across availability zones, the seed's CPU triggers. Platform settings that
# belong to the code (WSGI, static files, migrations) live in .ebextensions/.

locals {
  # Each instance keeps its cache of users in a local SQLite file outside the app directory
  # (which every deployment replaces); sessions are in DynamoDB, so nothing is shared.
  portal_db_path = "/var/app/data/portal.sqlite3"

  # The core's variables (AWS_REGION included: only Lambda sets it by itself) and Django's.
  portal_only_environment = {
    AWS_REGION             = local.region
    DJANGO_SETTINGS_MODULE = "portal.settings.production"
    # localhost: the health checks' Host (.platform/nginx/conf.d/elasticbeanstalk/healthz.conf).
    DJANGO_ALLOWED_HOSTS = "${local.portal_host},localhost"
    CSRF_TRUSTED_ORIGINS = "https://${local.portal_host}"
    DJANGO_DB_PATH       = local.portal_db_path
    # The load balancer and the platform's nginx both append to X-Forwarded-For.
    TRUSTED_PROXY_HOPS = "2"
  }
  portal_environment = merge(local.core_environment, local.portal_only_environment)

  # The secrets Beanstalk fetches at instance start (platform versions from 2025-03-26 on).
  portal_secrets = {
    DJANGO_SECRET_KEY = aws_secretsmanager_secret.django_secret_key.arn
    CURSOR_SECRET     = aws_secretsmanager_secret.cursor_secret.arn
  }
}

resource "aws_elastic_beanstalk_application" "portal" {
  name        = "${var.project}-portal"
  description = "Image Manager portal (Django)"

  # Keep the last versions for rollback; their bundles stay in the artifacts bucket.
  appversion_lifecycle {
    service_role          = aws_iam_role.eb_service.arn
    max_count             = var.app_versions_to_keep
    delete_source_from_s3 = false
  }
}

# The first application version; later ones are uploaded and deployed as docs/deploy.md
# says, so every version stays in Beanstalk for rollback.
resource "aws_s3_object" "initial_bundle" {
  bucket      = aws_s3_bucket.artifacts.id
  key         = "portal/initial.zip"
  source      = var.portal_bundle_zip
  source_hash = filemd5(var.portal_bundle_zip)

  lifecycle {
    ignore_changes = [source, source_hash]
  }
}

resource "aws_elastic_beanstalk_application_version" "initial" {
  name        = "initial"
  application = aws_elastic_beanstalk_application.portal.name
  description = "First version, created by Terraform"
  bucket      = aws_s3_object.initial_bundle.bucket
  key         = aws_s3_object.initial_bundle.key
}

resource "aws_elastic_beanstalk_environment" "portal" {
  #checkov:skip=CKV_AWS_312:Enhanced health is on (healthreporting:system SystemType = enhanced, health streamed to CloudWatch Logs); the check looks for HealthStreamingEnabled in the healthreporting:system namespace, where Beanstalk has no such option.
  name                = "${var.project}-portal"
  application         = aws_elastic_beanstalk_application.portal.name
  solution_stack_name = var.solution_stack_name
  tier                = "WebServer"
  version_label       = aws_elastic_beanstalk_application_version.initial.name

  # Instances and load balancer across the given subnets (at least two availability zones).
  setting {
    namespace = "aws:ec2:vpc"
    name      = "VPCId"
    value     = var.vpc_id
  }

  setting {
    namespace = "aws:ec2:vpc"
    name      = "Subnets"
    value     = join(",", var.instance_subnet_ids)
  }

  setting {
    namespace = "aws:ec2:vpc"
    name      = "ELBSubnets"
    value     = join(",", var.elb_subnet_ids)
  }

  setting {
    namespace = "aws:ec2:vpc"
    name      = "ELBScheme"
    value     = "public"
  }

  setting {
    namespace = "aws:ec2:vpc"
    name      = "AssociatePublicIpAddress"
    value     = var.associate_public_ip ? "true" : "false"
  }

  setting {
    namespace = "aws:ec2:instances"
    name      = "InstanceTypes"
    value     = var.instance_type
  }

  setting {
    namespace = "aws:autoscaling:launchconfiguration"
    name      = "IamInstanceProfile"
    value     = aws_iam_instance_profile.portal.name
  }

  setting {
    namespace = "aws:autoscaling:launchconfiguration"
    name      = "DisableIMDSv1"
    value     = "true"
  }

  setting {
    namespace = "aws:autoscaling:launchconfiguration"
    name      = "RootVolumeType"
    value     = "gp3"
  }

  setting {
    namespace = "aws:autoscaling:launchconfiguration"
    name      = "MonitoringInterval"
    value     = "1 minute"
  }

  setting {
    namespace = "aws:autoscaling:asg"
    name      = "MinSize"
    value     = tostring(var.min_instances)
  }

  setting {
    namespace = "aws:autoscaling:asg"
    name      = "MaxSize"
    value     = tostring(var.max_instances)
  }

  setting {
    namespace = "aws:autoscaling:asg"
    name      = "Availability Zones"
    value     = "Any"
  }

  # The seed's triggers: add an instance when average CPU > 70 % for 5 minutes, remove one
  # when < 30 % for 5 minutes.
  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "MeasureName"
    value     = "CPUUtilization"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "Statistic"
    value     = "Average"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "Unit"
    value     = "Percent"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "Period"
    value     = "5"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "EvaluationPeriods"
    value     = "1"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "BreachDuration"
    value     = "5"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "UpperThreshold"
    value     = "70"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "UpperBreachScaleIncrement"
    value     = "1"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "LowerThreshold"
    value     = "30"
  }

  setting {
    namespace = "aws:autoscaling:trigger"
    name      = "LowerBreachScaleIncrement"
    value     = "-1"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment"
    name      = "EnvironmentType"
    value     = "LoadBalanced"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment"
    name      = "LoadBalancerType"
    value     = "application"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment"
    name      = "ServiceRole"
    value     = aws_iam_role.eb_service.arn
  }

  # HTTPS with the ACM certificate; port 80 stays open only to redirect to HTTPS
  # (.ebextensions/03_https_redirect.config).
  # The load balancer cuts a request after this many seconds without a byte. Above gunicorn's
  # worker timeout (30 s, the Procfile's; the longest request, registering a 200 MiB upload,
  # took 3 to 8 s measured), so a request that runs too long is ended by gunicorn (nginx
  # answers and logs a 502) rather than abandoned by the load balancer while the worker goes
  # on; below the 60 s the platform's nginx keeps an idle connection (keepalive_timeout), as
  # AWS advises, so the load balancer never reuses one nginx has just closed.
  setting {
    namespace = "aws:elbv2:loadbalancer"
    name      = "IdleTimeout"
    value     = "50"
  }

  setting {
    namespace = "aws:elbv2:listener:443"
    name      = "ListenerEnabled"
    value     = "true"
  }

  setting {
    namespace = "aws:elbv2:listener:443"
    name      = "Protocol"
    value     = "HTTPS"
  }

  setting {
    namespace = "aws:elbv2:listener:443"
    name      = "SSLCertificateArns"
    value     = aws_acm_certificate_validation.main.certificate_arn
  }

  setting {
    namespace = "aws:elbv2:listener:443"
    name      = "SSLPolicy"
    value     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  }

  setting {
    namespace = "aws:elbv2:listener:443"
    name      = "DefaultProcess"
    value     = "default"
  }

  setting {
    namespace = "aws:elbv2:listener:default"
    name      = "ListenerEnabled"
    value     = "true"
  }

  # The portal answers 200 at /healthz without a session (and without the HTTPS redirect).
  setting {
    namespace = "aws:elasticbeanstalk:environment:process:default"
    name      = "Port"
    value     = "80"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment:process:default"
    name      = "Protocol"
    value     = "HTTP"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment:process:default"
    name      = "HealthCheckPath"
    value     = "/healthz"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment:process:default"
    name      = "MatcherHTTPCode"
    value     = "200"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment:process:default"
    name      = "HealthCheckInterval"
    value     = "15"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment:process:default"
    name      = "HealthyThresholdCount"
    value     = "3"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment:process:default"
    name      = "UnhealthyThresholdCount"
    value     = "5"
  }

  setting {
    namespace = "aws:elasticbeanstalk:environment:process:default"
    name      = "StickinessEnabled"
    value     = "false"
  }

  setting {
    namespace = "aws:elasticbeanstalk:healthreporting:system"
    name      = "SystemType"
    value     = "enhanced"
  }

  setting {
    namespace = "aws:elasticbeanstalk:command"
    name      = "DeploymentPolicy"
    value     = "RollingWithAdditionalBatch"
  }

  setting {
    namespace = "aws:elasticbeanstalk:command"
    name      = "BatchSizeType"
    value     = "Fixed"
  }

  setting {
    namespace = "aws:elasticbeanstalk:command"
    name      = "BatchSize"
    value     = "1"
  }

  # Managed platform updates: minor and patch releases of the chosen platform branch (Amazon
  # Linux 2023, Python 3.12), rolling, in this weekly window; Beanstalk lists each one in the
  # environment's events. A new branch (another Python) is an upgrade on purpose.
  setting {
    namespace = "aws:elasticbeanstalk:managedactions"
    name      = "ManagedActionsEnabled"
    value     = "true"
  }

  setting {
    namespace = "aws:elasticbeanstalk:managedactions"
    name      = "PreferredStartTime"
    value     = "Sun:03:00"
  }

  setting {
    namespace = "aws:elasticbeanstalk:managedactions:platformupdate"
    name      = "UpdateLevel"
    value     = "minor"
  }

  setting {
    namespace = "aws:elasticbeanstalk:cloudwatch:logs"
    name      = "StreamLogs"
    value     = "true"
  }

  setting {
    namespace = "aws:elasticbeanstalk:cloudwatch:logs"
    name      = "DeleteOnTerminate"
    value     = "false"
  }

  setting {
    namespace = "aws:elasticbeanstalk:cloudwatch:logs"
    name      = "RetentionInDays"
    value     = tostring(var.log_retention_days)
  }

  setting {
    namespace = "aws:elasticbeanstalk:cloudwatch:logs:health"
    name      = "HealthStreamingEnabled"
    value     = "true"
  }

  setting {
    namespace = "aws:elasticbeanstalk:cloudwatch:logs:health"
    name      = "DeleteOnTerminate"
    value     = "false"
  }

  setting {
    namespace = "aws:elasticbeanstalk:cloudwatch:logs:health"
    name      = "RetentionInDays"
    value     = tostring(var.log_retention_days)
  }

  dynamic "setting" {
    for_each = local.portal_environment
    content {
      namespace = "aws:elasticbeanstalk:application:environment"
      name      = setting.key
      value     = setting.value
    }
  }

  dynamic "setting" {
    for_each = local.portal_secrets
    content {
      namespace = "aws:elasticbeanstalk:application:environmentsecrets"
      name      = setting.key
      value     = setting.value
    }
  }

  lifecycle {
    # Code is deployed with `aws elasticbeanstalk update-environment --version-label` (and
    # rolled back the same way), not by Terraform; see docs/deploy.md. The platform is
    # created as var.solution_stack_name, then moves only by the managed updates above (in
    # their window) or by an upgrade on purpose ("Upgrading the platform" in docs/deploy.md):
    # a plan never upgrades it, nor reverts what a managed update did.
    ignore_changes = [version_label, solution_stack_name]
  }

  # Its roles' policies are in place before it starts (a reference to a role waits for the
  # role, not for its policies): otherwise the first instances may start unable to read the
  # secrets or the tables and fail their health checks, and Beanstalk lack its own rights.
  depends_on = [
    aws_secretsmanager_secret_version.django_secret_key,
    aws_secretsmanager_secret_version.cursor_secret,
    aws_iam_role_policy.portal,
    aws_iam_role_policy_attachment.portal_platform,
    aws_iam_role_policy_attachment.eb_service,
  ]
}

# ---------------------------------------------------------------------------------------
# Artifacts bucket: the application versions' source bundles.
# ---------------------------------------------------------------------------------------

resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_144:Bundles are rebuilt reproducibly from git with `make bundle`; no cross-region copy is needed.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bundle upload events.
  #checkov:skip=CKV_AWS_145:SSE-S3: Beanstalk and the instances read the bundles; they hold code from the repository, no secrets.
  bucket = "${var.project}-artifacts-${local.account_id}"
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    id     = "old-versions-and-multipart"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.private["artifacts"]]
}

resource "aws_s3_bucket_logging" "artifacts" {
  bucket        = aws_s3_bucket.artifacts.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${aws_s3_bucket.artifacts.id}/"
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket     = aws_s3_bucket.artifacts.id
  policy     = data.aws_iam_policy_document.deny_insecure_transport["artifacts"].json
  depends_on = [aws_s3_bucket_public_access_block.private["artifacts"]]
}
