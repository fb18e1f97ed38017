from django.urls import path

from today import views

app_name = "today"
urlpatterns = [
    path("", views.today, name="index"),
    path("team/", views.team, name="team"),
    path("team/<int:user_id>/", views.team_rep, name="team_rep"),
    path("touches/<int:pk>/outcome/", views.touch_outcome, name="outcome"),
    path("touches/<int:pk>/snooze/", views.touch_snooze_view, name="snooze"),
    path("touches/<int:pk>/reassign/", views.touch_reassign_view, name="reassign"),
    path("referrals/<int:contact_id>/", views.referral_log, name="referral_log"),
]
