from django.urls import include, path

from leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_intake, name="intake"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/notes/", views.lead_note_add, name="note_add"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/status/", views.lead_status, name="status"),
    path("<int:pk>/assign/", views.lead_assign, name="assign"),
    path("<int:pk>/merge/", views.lead_merge, name="merge"),
    # A rep writes to the lead, and the conversation (leads/answers/).
    path("<int:pk>/", include("leads.answers.urls")),
    # Manager/admin CSV import: routes in intake/import_urls.py (same "leads" namespace).
    path("import/", include("intake.import_urls")),
]
