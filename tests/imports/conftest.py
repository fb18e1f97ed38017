import pytest
from django.core.files.uploadedfile import SimpleUploadedFile


def csv_upload(content, name="leads.csv", encoding="utf-8"):
    raw = content if isinstance(content, bytes) else content.encode(encoding)
    return SimpleUploadedFile(name, raw, content_type="text/csv")


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """upload(client, content, **fields) -> response; the import task runs (eagerly) on commit."""

    def do(client, content, name="leads.csv", encoding="utf-8", **fields):
        data = {"file": csv_upload(content, name=name, encoding=encoding)}
        data.update({k: (v.pk if hasattr(v, "pk") else v) for k, v in fields.items()})
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/leads/import/", data)

    return do
