from django.urls import path

from cadences import views

app_name = "cadences"
urlpatterns = [
    path("", views.cadence_list, name="list"),
    path("new/", views.cadence_create, name="create"),
    path("<int:pk>/", views.cadence_detail, name="detail"),
    path("<int:pk>/edit/", views.cadence_edit, name="edit"),
    path("<int:pk>/toggle-active/", views.cadence_toggle_active, name="toggle_active"),
    path("<int:pk>/preview/", views.cadence_preview, name="preview"),
    path("<int:pk>/steps/new/", views.cadence_step_add, name="step_add"),
    path("<int:pk>/steps/<int:step_pk>/edit/", views.cadence_step_edit, name="step_edit"),
    path("<int:pk>/steps/<int:step_pk>/remove/", views.cadence_step_remove, name="step_remove"),
    path("<int:pk>/steps/<int:step_pk>/move/<str:direction>/", views.cadence_step_move, name="step_move"),
]
