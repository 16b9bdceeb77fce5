"""The portal's image pages, in the look and habits of the Django admin. Every read and write
goes through images.catalog; these views validate, call one function, render. Function views,
as the pages are forms over one catalog call each; the account pages are class-based because
they extend Django's own auth views (accounts/views.py).
"""

from images.views.actions import image_action
from images.views.changelist import image_list
from images.views.downloads import image_download
from images.views.exports import export_detail, export_download, export_start
from images.views.uploads import upload_discard, upload_metadata, upload_register, upload_start
from images.views.trash import image_history, trash_action, trash_list, trash_rendition, trash_thumbnail
from images.views.edit import image_add, image_change, image_delete

__all__ = ["upload_discard", "upload_metadata", "upload_register", "upload_start", "export_detail", "export_download",
           "export_start", "image_action", "image_add", "image_change", "image_delete", "image_download", "image_list",
           "image_history", "trash_action", "trash_list", "trash_rendition", "trash_thumbnail"]
