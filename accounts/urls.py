from django.urls import include, path

from accounts import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notifications"),
    path("", include("django.contrib.auth.urls")),
]
