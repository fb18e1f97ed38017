from django.urls import path

from leads import import_views

urlpatterns = [
    path("", import_views.import_new, name="import_new"),
]
