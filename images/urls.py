"""URLs of the image catalog pages."""

from django.urls import path

from images import views

app_name = "images"

urlpatterns = [
    path("", views.image_list, name="list"),
    path("add/", views.image_add, name="add"),
    path("add/metadata/", views.read_file_metadata, name="file_metadata"),
    path("actions/", views.image_action, name="action"),
    path("<str:image_id>/change/", views.image_change, name="change"),
    path("<str:image_id>/delete/", views.image_delete, name="delete"),
    path("<str:image_id>/download/", views.image_download, name="download"),
]
