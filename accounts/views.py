"""Accounts pages: class-based views configured by class attributes; each calls one core
function and turns its refusals into form errors or messages."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.contrib import auth, messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView

from accounts import cognito, forms
from accounts.backends import SESSION_KEY, session_data
from accounts.pool import PASSWORD_RULES_TEXT
from accounts.sessions import end_sessions
from accounts.tokens import InvalidToken, verify_id_token
from common.errors import AppError

log = logging.getLogger(__name__)

_sensitive = method_decorator(sensitive_post_parameters("password", "password1", "password2", "old_password"),
                              name="dispatch")


def _with_username(name: str, username: str) -> str:
    return f"{reverse(name)}?{urlencode({'username': username})}"


def end_every_session(username: str) -> None:
    """After a password reset or a disable: revoke the user's refresh tokens in Cognito and
    end every portal session at its next request."""
    try:
        cognito.admin_global_sign_out(username)
    except AppError:
        # The portal sessions still end below; the refresh tokens die with their own expiry.
        log.error("could not revoke the refresh tokens of %s", username, exc_info=True)
    end_sessions(username)


class AccountFormView(FormView):
    """A FormView on the shared admin-style form page."""

    template_name = "accounts/form.html"
    title = ""
    intro = ""
    submit_label = "Submit"
    # Cognito error code → the field that gets the message (others: the whole form).
    error_fields: dict[str, str] = {}

    def get_initial(self):
        initial = super().get_initial()
        if username := self.request.GET.get("username"):
            initial["username"] = username
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(title=self.title, intro=self.intro, submit_label=self.submit_label,
                                        **kwargs)

    def refuse(self, form, exc: AppError):
        """Show a refusal from Cognito on the form."""
        form.add_error(self.error_fields.get(exc.code), exc.message)
        return self.form_invalid(form)


@method_decorator([csrf_protect, never_cache], name="dispatch")
@_sensitive
class SignInView(LoginView):
    """Sign in at /accounts/login/ with Django's usual fields and `next` handling."""

    form_class = forms.SignInForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_initial(self):
        return {"username": self.request.GET.get("username", "")}

    def form_invalid(self, form):
        if form.unconfirmed:
            messages.warning(self.request, cognito.UserNotConfirmed.default_message)
            return redirect(_with_username("accounts:confirm", form.cleaned_data["username"]))
        return super().form_invalid(form)


@method_decorator(csrf_protect, name="dispatch")
class SignOutView(View):
    """Sign out (POST only): revoke the Cognito refresh token, then end the session."""

    http_method_names = ["post", "options"]

    def post(self, request):
        refresh_token = (request.session.get(SESSION_KEY) or {}).get("refresh_token")
        if refresh_token:
            try:
                cognito.sign_out(refresh_token)
            except cognito.SessionEnded:
                pass  # already revoked or expired: nothing left to revoke
            except AppError:
                log.warning("could not revoke the refresh token at sign-out", exc_info=True)
        auth.logout(request)
        messages.success(request, "You have signed out.")
        return HttpResponseRedirect(reverse("accounts:login"))


@_sensitive
class SignUpView(AccountFormView):
    """Sign up with username, email and password; Cognito emails a code."""

    form_class = forms.SignUpForm
    title = "Sign up"
    intro = f"Choose a username and a password. {PASSWORD_RULES_TEXT} We will email you a code to confirm."
    submit_label = "Sign up"
    error_fields = {"username_exists": "username", "invalid_password": "password1"}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            result = cognito.sign_up(data["username"], data["email"], data["password1"])
        except AppError as exc:
            return self.refuse(form, exc)
        if result.confirmed:
            messages.success(self.request, "Your account is ready. Sign in.")
            return redirect(_with_username("accounts:login", data["username"]))
        messages.success(self.request, f"We emailed a confirmation code to {result.destination or data['email']}.")
        return redirect(_with_username("accounts:confirm", data["username"]))


class ConfirmView(AccountFormView):
    """Confirm a sign-up with the emailed code."""

    form_class = forms.ConfirmForm
    template_name = "accounts/confirm.html"
    title = "Confirm your account"
    intro = "Enter the code we emailed you."
    submit_label = "Confirm"
    error_fields = {"code_mismatch": "code", "code_expired": "code"}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            cognito.confirm_sign_up(data["username"], data["code"])
        except AppError as exc:
            return self.refuse(form, exc)
        messages.success(self.request, "Your account is confirmed. You can sign in now.")
        return redirect(_with_username("accounts:login", data["username"]))

    def get_context_data(self, **kwargs):
        username = self.request.POST.get("username") or self.request.GET.get("username", "")
        return super().get_context_data(resend_form=forms.ResendCodeForm(initial={"username": username}), **kwargs)


class ResendCodeView(AccountFormView):
    """Send a new confirmation code (POST from the confirmation page)."""

    form_class = forms.ResendCodeForm
    http_method_names = ["post", "options"]

    def form_valid(self, form):
        username = form.cleaned_data["username"]
        try:
            cognito.resend_code(username)
        except AppError as exc:
            messages.error(self.request, exc.message)
        else:
            messages.success(self.request, "If that account is waiting for confirmation, we emailed it a new code.")
        return redirect(_with_username("accounts:confirm", username))

    def form_invalid(self, form):
        messages.error(self.request, "Enter your username to get a new code.")
        return redirect("accounts:confirm")


class ForgotPasswordView(AccountFormView):
    """Ask for a password-reset code."""

    form_class = forms.ForgotPasswordForm
    title = "Forgotten your password?"
    intro = "Enter your username and we will email you a code to set a new password."
    submit_label = "Send me a code"

    def form_valid(self, form):
        username = form.cleaned_data["username"]
        try:
            cognito.forgot_password(username)
        except AppError as exc:
            return self.refuse(form, exc)
        messages.success(self.request, "If that account exists, we emailed it a code.")
        return redirect(_with_username("accounts:password_reset_confirm", username))


@_sensitive
class ResetPasswordView(AccountFormView):
    """Set a new password with the emailed reset code."""

    form_class = forms.ResetPasswordForm
    title = "Set a new password"
    intro = f"Enter the code we emailed you and your new password. {PASSWORD_RULES_TEXT}"
    submit_label = "Set my password"
    error_fields = {"code_mismatch": "code", "code_expired": "code", "invalid_password": "password1"}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            cognito.confirm_forgot_password(data["username"], data["code"], data["password1"])
        except AppError as exc:
            return self.refuse(form, exc)
        end_every_session(data["username"])
        messages.success(self.request, "Your password has been set. You can sign in now.")
        return redirect(_with_username("accounts:login", data["username"]))


@_sensitive
class ChangePasswordView(LoginRequiredMixin, AccountFormView):
    """Change the signed-in person's password."""

    form_class = forms.ChangePasswordForm
    title = "Password change"
    intro = f"Enter your old password, then your new password twice. {PASSWORD_RULES_TEXT}"
    submit_label = "Change my password"
    error_fields = {"invalid_credentials": "old_password", "invalid_password": "password1"}
    success_url = reverse_lazy("accounts:password_change")

    def form_valid(self, form):
        data = form.cleaned_data
        access_token = (self.request.session.get(SESSION_KEY) or {}).get("access_token", "")
        try:
            cognito.change_password(access_token, data["old_password"], data["password1"])
        except cognito.InvalidCredentials:
            form.add_error("old_password", "Your old password was entered incorrectly. Please enter it again.")
            return self.form_invalid(form)
        except AppError as exc:
            return self.refuse(form, exc)
        if not self.keep_only_this_session(access_token, data["password1"]):
            auth.logout(self.request)
            messages.success(self.request, "Your password was changed. Sign in with the new one.")
            return redirect("accounts:login")
        messages.success(self.request, "Your password was changed. Your other sessions were signed out.")
        return super().form_valid(form)

    def keep_only_this_session(self, access_token: str, new_password: str) -> bool:
        """Sign out everywhere (Cognito revokes every refresh token; every portal session ends
        at its next request), then sign this session back in with the new password, as
        Django's update_session_auth_hash() keeps it. False if this session could not be kept."""
        user = self.request.user
        try:
            cognito.global_sign_out(access_token)
        except AppError:
            log.error("could not revoke the refresh tokens of %s", user.username, exc_info=True)
        end_sessions(user.username)
        try:
            tokens = cognito.sign_in(user.username, new_password)
            claims = verify_id_token(tokens.id_token)
        except (AppError, InvalidToken):
            log.warning("could not sign %s back in after a password change", user.username, exc_info=True)
            return False
        self.request.session[SESSION_KEY] = session_data(tokens, claims)
        auth.update_session_auth_hash(self.request, user)
        return True
