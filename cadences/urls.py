from django.urls import path

app_name = "cadences"
urlpatterns = []
