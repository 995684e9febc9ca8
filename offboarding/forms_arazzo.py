"""The form that brings an Arazzo document in as a custom playbook (issue 17)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import QueryDict

from offboarding.arazzo.reading import MAX_DOCUMENT_BYTES


class _NoEcho(forms.Textarea):
    """A pasted document may hold a credential: it is never written back into a page."""

    def format_value(self, value: Any) -> str | None:
        return None


class PlaybookImportForm(forms.Form):
    name = forms.CharField(
        max_length=120,
        help_text="Importing under a name that exists makes that playbook's next version.",
    )
    document = forms.CharField(
        required=False,
        widget=_NoEcho(attrs={"rows": 12, "spellcheck": "false"}),
        label="Arazzo document (YAML or JSON)",
        help_text="Paste it here, or choose a file below. It is not shown again after an error "
        "(it may hold a credential): paste it again once fixed.",
    )
    upload = forms.FileField(required=False, label="…or a file")
    # Carried from the preview to the save: what the first reading dropped (words only).
    dropped = forms.CharField(required=False, widget=forms.MultipleHiddenInput)

    def dropped_notices(self) -> list[str]:
        data = cast(QueryDict, self.data)
        return [str(n)[:300] for n in data.getlist("dropped")[:50]] if data else []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("upload")
        if upload is not None:
            if upload.size > MAX_DOCUMENT_BYTES:
                raise forms.ValidationError("The file is too large (at most 256 KB).")
            try:
                data["document"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file is not UTF-8 text.") from None
        if not (data.get("document") or "").strip():
            raise forms.ValidationError("Paste an Arazzo document or choose a file.")
        return data
