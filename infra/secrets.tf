# DJANGO_SECRET_KEY: generated here, stored in Secrets Manager, handed to the instances by
# Beanstalk's environment secrets. Ephemeral + write-only: the value never reaches the plan
# or the state, and never the repository.

# Secrets Manager's own generator (GetRandomPassword): no second provider to install.
ephemeral "aws_secretsmanager_random_password" "django_secret_key" {
  password_length     = 64
  exclude_punctuation = false
}

resource "aws_secretsmanager_secret" "django_secret_key" {
  #checkov:skip=CKV2_AWS_57:Rotating the Django secret key signs every user out; rotate on purpose by bumping django_secret_key_version.
  # A destroyed secret's name stays taken for recovery_window_in_days (docs/deploy.md, "Tearing down").
  name                    = "${var.project}/django-secret-key"
  description             = "DJANGO_SECRET_KEY of the portal"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "django_secret_key" {
  secret_id                = aws_secretsmanager_secret.django_secret_key.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.django_secret_key.random_password
  secret_string_wo_version = var.django_secret_key_version
}

# Signs list cursors (images/catalog/cursors.py): the Lambdas read it by ARN (CURSOR_SECRET_ARN,
# cached), Beanstalk passes it to the portal as CURSOR_SECRET.
ephemeral "aws_secretsmanager_random_password" "cursor_secret" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "cursor_secret" {
  #checkov:skip=CKV2_AWS_57:Rotation ends the cursors handed out before; rotate on purpose by bumping cursor_secret_version.
  name                    = "${var.project}/cursor-secret"
  description             = "HMAC key of list cursors (CURSOR_SECRET)."
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "cursor_secret" {
  secret_id                = aws_secretsmanager_secret.cursor_secret.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.cursor_secret.random_password
  secret_string_wo_version = var.cursor_secret_version
}
