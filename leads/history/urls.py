from django.urls import path

from leads.history import views as history_views

# Included at the site root: /leads/<pk>/history/ and /cadences/<pk>/history/.
app_name = "history"
urlpatterns = [
    path("leads/<int:pk>/history/", history_views.lead_history, name="lead"),
    path("cadences/<int:pk>/history/", history_views.cadence_history, name="cadence"),
]
