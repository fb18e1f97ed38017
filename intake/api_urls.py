from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from intake import api

app_name = "api"
urlpatterns = [
    path("leads/", api.LeadCreateView.as_view(), name="lead_create"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
