"""URLs of the accounts app (sign-up, sign-in, sign-out, passwords)."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("signup/", views.SignUpView.as_view(), name="signup"),
    path("confirm/", views.ConfirmView.as_view(), name="confirm"),
    path("confirm/resend/", views.ResendCodeView.as_view(), name="resend_code"),
    path("password_reset/", views.ForgotPasswordView.as_view(), name="password_reset"),
    path("password_reset/confirm/", views.ResetPasswordView.as_view(), name="password_reset_confirm"),
    path("password_change/", views.ChangePasswordView.as_view(), name="password_change"),
]
