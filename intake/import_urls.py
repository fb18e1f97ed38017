from django.urls import path

from intake import import_views

# Included by leads/urls.py at /leads/import/ inside the "leads" namespace.
urlpatterns = [
    path("", import_views.import_new, name="import_new"),
    path("<int:pk>/", import_views.import_detail, name="import_detail"),
    path("<int:pk>/errors.csv", import_views.import_errors_csv, name="import_errors_csv"),
    path("<int:pk>/retry/", import_views.import_retry, name="import_retry"),
]
