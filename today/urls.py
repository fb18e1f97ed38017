from django.urls import path

from today import appointment_views, call_views, reply_views, views

app_name = "today"
urlpatterns = [
    path("", views.today, name="index"),
    path("team/", views.team, name="team"),
    path("replies/", reply_views.today_replies, name="replies"),
    path("team/<int:user_id>/", views.team_rep, name="team_rep"),
    path("team/reassign/", views.team_reassign, name="team_reassign"),
    path("touches/<int:pk>/outcome/", views.touch_outcome, name="outcome"),
    path("touches/<int:pk>/more/", views.row_more, name="row_more"),
    path("touches/<int:pk>/snooze/", views.touch_snooze_view, name="snooze"),
    path("touches/<int:pk>/reassign/", views.touch_reassign_view, name="reassign"),
    path("leads/<int:lead_id>/decision/", views.lead_decision, name="decision"),
    path("referrals/<int:contact_id>/", views.referral_log, name="referral_log"),
    path("call/", call_views.call_mode_view, name="call_mode"),
    path("call/<int:pk>/outcome/", call_views.call_outcome, name="call_outcome"),
    path("touches/<int:pk>/appointment/", appointment_views.appointment_new, name="appointment_new"),
    path(
        "appointments/<int:pk>/reschedule/",
        appointment_views.appointment_reschedule_view,
        name="appointment_reschedule",
    ),
    path("appointments/<int:pk>/no-show/", appointment_views.appointment_no_show_view, name="appointment_no_show"),
    path("appointments/<int:pk>/held/", appointment_views.appointment_held_view, name="appointment_held"),
]
