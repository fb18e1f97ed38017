from django.urls import include, path

from leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_intake, name="intake"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    # Manager/admin CSV import: routes in leads/import_urls.py (same "leads" namespace).
    path("import/", include("leads.import_urls")),
]
