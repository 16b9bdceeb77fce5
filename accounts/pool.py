"""The Cognito user pool's definition, as the local stack creates it and infra/cognito.tf
declares it (tests/infra checks they agree). Django-free."""

POOL_NAME = "image-manager"
PORTAL_CLIENT_NAME = "image-manager-portal"
PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}
# Both faces sign in with SRP; the portal refreshes sessions with the refresh token.
EXPLICIT_AUTH_FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
# What the ID token may carry and what users may change about themselves.
READ_ATTRIBUTES = ["email", "email_verified"]
WRITE_ATTRIBUTES = ["email"]
# ID and access tokens live 15 minutes (Cognito cannot revoke them once issued; the README's
# security model says why), refresh tokens 30 days (infra: cognito_token_validity_minutes).
TOKEN_VALIDITY = {"AccessTokenValidity": 15, "IdTokenValidity": 15, "RefreshTokenValidity": 30,
                  "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}}
PASSWORD_RULES_TEXT = (
    "At least 8 characters, with an upper-case letter, a lower-case letter, a digit and a symbol."
)
# The Cognito PreSignUp trigger (infra/cognito.tf attaches it when the API's instant sign-up
# is opted in; the local stack always does): its Lambda function and its handler.
PRE_SIGN_UP_FUNCTION = "image-manager-pre-sign-up"
PRE_SIGN_UP_HANDLER = "accounts.triggers.pre_sign_up"
# What POST /users tells the trigger in SignUp's ClientMetadata when instant sign-up is on.
INSTANT_SIGN_UP_METADATA = {"face": "api-instant"}
