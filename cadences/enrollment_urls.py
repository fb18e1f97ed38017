from django.urls import path

from cadences import enrollment_views as views

app_name = "enrollments"
urlpatterns = [
    path("lead/<int:lead_id>/", views.lead_enrollment_panel, name="panel"),
    path("lead/<int:lead_id>/start/", views.lead_enrollment_start, name="start"),
    path("lead/<int:lead_id>/pause/", views.lead_enrollment_pause, name="pause"),
    path("lead/<int:lead_id>/resume/", views.lead_enrollment_resume, name="resume"),
    path("lead/<int:lead_id>/exit/", views.lead_enrollment_exit, name="exit"),
]
