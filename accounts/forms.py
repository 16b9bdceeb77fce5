"""Forms of the accounts pages. Validation lives here; Cognito's refusals become form errors."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.core.validators import RegexValidator

from accounts import cognito, throttle
from accounts.pool import PASSWORD_POLICY, PASSWORD_RULES_TEXT
from accounts.usernames import new_username
from common.config import get_config
from common.errors import AppError

USERNAME_FIELD = forms.CharField(
    label="Username",
    max_length=128,
    validators=[RegexValidator(r"^[\w.@+-]+\Z", "Letters, digits and @/./+/-/_ only.")],
    widget=forms.TextInput(attrs={"autocapitalize": "none", "autocomplete": "username", "autofocus": True}),
)
CODE_FIELD = forms.CharField(
    label="Code", max_length=10, help_text="The 6-digit code we emailed you.",
    widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
)


def _new_password(label: str = "Password") -> forms.CharField:
    return forms.CharField(
        label=label, strip=False, min_length=PASSWORD_POLICY["MinimumLength"], help_text=PASSWORD_RULES_TEXT,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


def _confirmation(label: str = "Password confirmation") -> forms.CharField:
    return forms.CharField(label=label, strip=False, help_text="Enter the same password again.",
                           widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the one our own proxies (the ALB) appended to
    X-Forwarded-For (TRUSTED_PROXY_HOPS); entries a client could forge are ignored."""
    hops = get_config().trusted_proxy_hops
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


class PasswordsMatchMixin:
    """Check that the two new-password fields agree."""

    password_fields = ("password1", "password2")

    def clean(self):
        cleaned = super().clean()
        first, second = (cleaned.get(name) for name in self.password_fields)
        if first and second and first != second:
            self.add_error(self.password_fields[1], "The two password fields didn’t match.")
        return cleaned


class SignInForm(forms.Form):
    """Username and password, checked by Cognito SRP, rate-limited per username and address.

    Django's LoginView calls get_user() after is_valid()."""

    username = USERNAME_FIELD
    password = forms.CharField(label="Password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    error_messages = {"invalid_login": cognito.InvalidCredentials.default_message}

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user_cache = None
        self.unconfirmed = False
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        username, password = cleaned.get("username"), cleaned.get("password")
        if not username or not password:
            return cleaned
        address = client_address(self.request) if self.request is not None else None
        try:
            permit = throttle.acquire(username, address)
        except AppError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        try:
            self.user_cache = authenticate(self.request, username=username, password=password)
        except cognito.UserNotConfirmed as exc:
            permit.release()  # the right password: no failure to count
            self.unconfirmed = True
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        except AppError as exc:
            permit.release()
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        if self.user_cache is None:
            permit.failed()
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        permit.succeeded()
        return cleaned

    def get_user(self):
        return self.user_cache


class SignUpForm(PasswordsMatchMixin, forms.Form):
    """A new Cognito user: username, email (required), password twice."""

    username = USERNAME_FIELD
    email = forms.EmailField(label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password1 = _new_password()
    password2 = _confirmation()

    def clean_username(self) -> str:
        try:
            return new_username(self.cleaned_data["username"])
        except AppError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from exc


class ConfirmForm(forms.Form):
    """The emailed confirmation code."""

    username = forms.CharField(label="Username", max_length=128)
    code = CODE_FIELD


class ResendCodeForm(forms.Form):
    """Ask for a new confirmation code."""

    username = forms.CharField(label="Username", max_length=128)


class ForgotPasswordForm(forms.Form):
    """Ask for a password-reset code."""

    username = USERNAME_FIELD


class ResetPasswordForm(PasswordsMatchMixin, forms.Form):
    """Set a new password with the emailed reset code."""

    username = forms.CharField(label="Username", max_length=128)
    code = CODE_FIELD
    password1 = _new_password("New password")
    password2 = _confirmation("New password confirmation")


class ChangePasswordForm(PasswordsMatchMixin, forms.Form):
    """Change the signed-in person's password."""

    old_password = forms.CharField(label="Old password", strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}))
    password1 = _new_password("New password")
    password2 = _confirmation("New password confirmation")
