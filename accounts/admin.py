from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Notification, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            "Sales",
            {"fields": ("role", "team", "phone", "timezone", "work_start_hour", "work_end_hour", "accepts_new_leads")},
        ),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (("Sales", {"fields": ("role", "team")}),)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("managers",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "text", "created_at", "read_at")
    list_filter = ("read_at",)
    raw_id_fields = ("lead",)
