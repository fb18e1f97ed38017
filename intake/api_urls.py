from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from intake import api, api_errors

app_name = "api"
urlpatterns = [
    path("leads/", api.LeadCreateView.as_view(), name="lead_create"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the Content-Security-Policy allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Last: the rest of /api/ is a JSON 404, not the site's HTML page.
    re_path(r"", api_errors.ApiNotFoundView.as_view(), name="not_found"),
]
