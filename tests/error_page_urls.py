"""The site's URLs plus one that raises, for tests/test_error_pages.py's 500 page (pytest.mark.urls)."""

from django.urls import path

from leadfollow.urls import urlpatterns as site_urlpatterns


def broken_view(request):
    raise RuntimeError("A bug in a view")


urlpatterns = [path("broken/", broken_view, name="broken"), *site_urlpatterns]
