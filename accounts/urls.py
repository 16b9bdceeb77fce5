"""URLs of the accounts app (sign-up, sign-in, sign-out, passwords)."""

from django.urls import path

app_name = "accounts"

urlpatterns: list = []
