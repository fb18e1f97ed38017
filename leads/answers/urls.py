"""Included by leads/urls.py under <int:pk>/ (the "leads" namespace)."""

from django.urls import path

from leads.answers import views

urlpatterns = [
    path("write/<str:channel>/", views.lead_compose, name="compose"),
    path("conversation/", views.lead_conversation, name="conversation"),
]
