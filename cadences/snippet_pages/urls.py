"""/snippets/ (names without a namespace: snippets, snippet_create, snippet_edit, snippet_delete)."""

from django.urls import path

from cadences.snippet_pages import views

urlpatterns = [
    path("", views.snippet_list, name="snippets"),
    path("new/", views.snippet_create_view, name="snippet_create"),
    path("<int:pk>/", views.snippet_edit_view, name="snippet_edit"),
    path("<int:pk>/delete/", views.snippet_delete_view, name="snippet_delete"),
]
