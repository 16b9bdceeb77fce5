"""URLs of the image catalog pages."""

from django.urls import path

app_name = "images"

urlpatterns: list = []
