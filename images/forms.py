"""Forms of the image pages. They only shape and label the fields: the catalog core
(`catalog.validate_meta`) is the one validation path, and its InvalidField errors are put
back on the field they name."""

from __future__ import annotations

import uuid

from django import forms

from images import catalog

ACCEPT = "image/jpeg,image/png,image/gif,image/webp"
META_FIELDS = ("title", "description", "keywords", "author", "capture_date")


class DateInput(forms.TextInput):
    """A date typed as YYYY-MM-DD, the format the help text, the API and search use: a browser's
    own date field would show the locale's order (mm/dd/yyyy) instead."""

    def __init__(self, attrs=None):
        super().__init__({"placeholder": "YYYY-MM-DD", "maxlength": "10", "autocomplete": "off", **(attrs or {})})


class ImageMetaForm(forms.Form):
    """The metadata of SPEC.md, named as SPEC.md names them."""

    title = forms.CharField(
        max_length=catalog.LIMITS["title"], required=False,
        widget=forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
    )
    description = forms.CharField(
        max_length=catalog.LIMITS["description"], required=False,
        widget=forms.Textarea(attrs={"class": "vLargeTextField", "rows": 3}),
    )
    keywords = forms.CharField(
        required=False, help_text="Separate keywords with commas, for example: coast, lighthouse.",
        widget=forms.TextInput(attrs={"class": "vTextField", "autocomplete": "off"}),
    )
    author = forms.CharField(
        max_length=catalog.LIMITS["author"], required=False,
        help_text="Who took or made the picture.",
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )
    capture_date = forms.CharField(
        required=False, label="Capture date", help_text="The day the picture was taken (YYYY-MM-DD).",
        widget=DateInput(attrs={"class": "vDateField"}),
    )

    def meta_values(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in META_FIELDS}

    def apply_core(self, *, fallback: catalog.ImageMeta | None = None, file_meta=None) -> catalog.ImageMeta | None:
        """Validate with the catalog core; put its errors on the form; the metadata or None."""
        values = self.meta_values()
        if file_meta is not None:
            # Empty fields take what the file itself says (EXIF/IPTC/XMP), where present.
            from_file = {
                "title": file_meta.title, "description": file_meta.description, "author": file_meta.author,
                "keywords": ",".join(file_meta.keywords or ()), "capture_date": file_meta.capture_date,
            }
            values = {k: (v if str(v or "").strip() else (from_file.get(k) or "")) for k, v in values.items()}
        try:
            return catalog.validate_meta(**values)
        except catalog.InvalidField as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
            return None


class AddImageForm(ImageMetaForm):
    image = forms.FileField(
        label="Image file", help_text="A JPEG, PNG, GIF or WebP image.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    # One token per form shown: a double submit or a resent form creates the image once.
    request_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    field_order = ["image", *META_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_token", uuid.uuid4().hex)


class ChangeImageForm(ImageMetaForm):
    image = forms.FileField(
        label="Replace the file", required=False,
        help_text="Optional. The image keeps its id; the new file gets a new URL, and the old one stops working.",
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
    field_order = [*META_FIELDS, "image", "version"]

    @classmethod
    def initial_from(cls, record) -> dict:
        return {
            "title": record.title,
            "description": record.description,
            "keywords": ", ".join(record.keywords),
            "author": record.author,
            "capture_date": record.capture_date or "",
            "version": record.version,
        }


class SetAuthorForm(forms.Form):
    author = forms.CharField(max_length=catalog.LIMITS["author"], label="New author",
                             widget=forms.TextInput(attrs={"class": "vTextField"}))


class KeywordsForm(forms.Form):
    keywords = forms.CharField(label="Keywords", help_text="Separate keywords with commas.",
                               widget=forms.TextInput(attrs={"class": "vTextField"}))

    def clean_keywords(self):
        try:
            found = catalog.parse_keywords(self.cleaned_data["keywords"])
        except catalog.InvalidField as exc:
            raise forms.ValidationError(exc.message) from exc
        if not found:
            raise forms.ValidationError("Give at least one keyword.")
        return found
