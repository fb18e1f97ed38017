"""Unmatched replies, under /replies/ (names without a namespace: `unmatched_replies`, …)."""

from django.urls import path

from messaging import views

urlpatterns = [
    path("unmatched/", views.unmatched_replies, name="unmatched_replies"),
    path("unmatched/<int:pk>/attach/", views.unmatched_reply_attach, name="unmatched_reply_attach"),
    path("unmatched/<int:pk>/discard/", views.unmatched_reply_discard, name="unmatched_reply_discard"),
]
