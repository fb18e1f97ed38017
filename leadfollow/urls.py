from django.contrib import admin
from django.urls import include, path

from accounts.views import healthz, home
from messaging.webhook_views import unsubscribe_view

urlpatterns = [
    path("", home, name="home"),
    path("healthz/", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("leads/", include("leads.urls")),
    # Who changed what: /leads/<pk>/history/ (managers, admins) and /cadences/<pk>/history/ (admins).
    path("", include("leads.history.urls")),
    path("api/", include("intake.api_urls")),
    path("cadences/", include("cadences.urls")),
    # Shared snippets (managers, admins): names without a namespace (cadences/snippet_pages/urls.py).
    path("snippets/", include("cadences.snippet_pages.urls")),
    path("enrollments/", include("cadences.enrollment_urls")),
    path("outbox/", include("messaging.urls")),
    path("replies/", include("messaging.reply_urls")),
    path("today/", include("today.urls")),
    path("reports/", include("reports.urls")),
    path("webhooks/", include("messaging.webhook_urls")),
    path("unsubscribe/<str:token>/", unsubscribe_view, name="unsubscribe"),
    path("admin/", admin.site.urls),
]
