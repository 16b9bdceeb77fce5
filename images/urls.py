"""URLs of the image catalog pages."""

from django.urls import path

from images import views

app_name = "images"

urlpatterns = [
    path("", views.image_list, name="list"),
    path("add/", views.image_add, name="add"),
    path("add/uploads/", views.upload_start, name="upload_start"),
    path("add/metadata/", views.upload_metadata, name="upload_metadata"),
    path("add/register/", views.upload_register, name="upload_register"),
    path("add/discard/", views.upload_discard, name="upload_discard"),
    path("actions/", views.image_action, name="action"),
    path("exports/", views.export_start, name="export_start"),
    path("exports/<str:job_id>/", views.export_detail, name="export"),
    path("exports/<str:job_id>/download/", views.export_download, name="export_download"),
    path("trash/", views.trash_list, name="trash"),
    path("trash/actions/", views.trash_action, name="trash_action"),
    path("trash/<str:image_id>/thumbnail/", views.trash_thumbnail, name="trash_thumbnail"),
    path("trash/<str:image_id>/<int:version>/<int:width>.<str:fmt>", views.trash_rendition, name="trash_rendition"),
    path("<str:image_id>/history/", views.image_history, name="history"),
    path("<str:image_id>/change/", views.image_change, name="change"),
    path("<str:image_id>/delete/", views.image_delete, name="delete"),
    path("<str:image_id>/download/", views.image_download, name="download"),
]
