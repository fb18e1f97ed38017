from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("friday/", views.friday, name="friday"),
    path("friday.csv", views.friday_csv, name="friday_csv"),
    path("compliance/", views.compliance, name="compliance"),
    path("speed/", views.speed, name="speed"),
    path("coverage/", views.coverage, name="coverage"),
    path("converts/", views.converts, name="converts"),
    path("weekly-email/", views.weekly_email, name="weekly_email"),
]
