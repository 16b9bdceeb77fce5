# One user pool for both faces (accounts/pool.py declares the same pool for the local
# stack; tests/infra checks they agree). Sign-in by username; email required and verified.

resource "aws_cognito_user_pool" "main" {
  name                     = var.cognito_user_pool_name != "" ? var.cognito_user_pool_name : var.project
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  auto_verified_attributes = ["email"]
  mfa_configuration        = "OFF"

  username_configuration {
    case_sensitive = false
  }

  schema {
    name                     = "email"
    attribute_data_type      = "String"
    required                 = true
    mutable                  = true
    developer_only_attribute = false

    string_attribute_constraints {
      min_length = 3
      max_length = 254
    }
  }

  password_policy {
    minimum_length                   = 8
    require_uppercase                = true
    require_lowercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 7
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }

  admin_create_user_config {
    allow_admin_create_user_only = false
  }

  verification_message_template {
    default_email_option = "CONFIRM_WITH_CODE"
    email_subject        = "Your Image Manager confirmation code"
    email_message        = "Your Image Manager confirmation code is {####}."
  }

  # Cognito's own mailer sends a few dozen mails a day: plenty for confirmation codes of a
  # small organisation; switch to SES (email_configuration) for more.
  email_configuration {
    email_sending_account = "COGNITO_DEFAULT"
  }

  # Only with the opted-in instant API sign-up (infra/triggers.tf): confirms it, no mail.
  dynamic "lambda_config" {
    for_each = local.pre_sign_up_enabled ? [1] : []
    content {
      pre_sign_up = aws_lambda_function.pre_sign_up[0].arn
    }
  }
}

# Members are staff in the portal: they may edit and delete every image.
resource "aws_cognito_user_group" "staff" {
  name         = var.staff_group_name
  user_pool_id = aws_cognito_user_pool.main.id
  description  = "Image Manager staff: may edit and delete every image"
}

# The portal and POST /users/token both sign in with SRP through the same accounts core, so
# one public client (no secret) allows SRP and refresh only: no password ever travels.
resource "aws_cognito_user_pool_client" "portal" {
  name                          = var.cognito_client_name != "" ? var.cognito_client_name : "${var.project}-portal"
  user_pool_id                  = aws_cognito_user_pool.main.id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  enable_token_revocation       = true
  prevent_user_existence_errors = "ENABLED"
  read_attributes               = ["email", "email_verified"]
  write_attributes              = ["email"]

  # Cognito cannot revoke an ID or access token already issued (only refresh tokens), so a
  # password change or a disable leaves them valid until they expire: keep them short.
  access_token_validity  = var.cognito_token_validity_minutes
  id_token_validity      = var.cognito_token_validity_minutes
  refresh_token_validity = 30
  auth_session_validity  = 3

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "days"
  }
}
