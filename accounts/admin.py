from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm

from accounts.forms import TimezoneField
from accounts.models import Notification, Team, User


class UserAdminForm(UserChangeForm):
    """The user's timezone from the grouped, searchable list (accounts.timezones), not free text."""

    timezone = TimezoneField(blank=None, required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["timezone"].set_zones(blank=None, extra=self.instance.timezone)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserAdminForm
    list_display = ("username", "first_name", "last_name", "role", "team", "is_active")
    list_filter = ("role", "team", "is_active")
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            "Sales",
            {"fields": ("role", "team", "phone", "timezone", "work_start_hour", "work_end_hour", "accepts_new_leads")},
        ),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (("Sales", {"fields": ("role", "team")}),)

    class Media:
        js = ["js/timezone-filter.js"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("managers",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "text", "created_at", "read_at")
    list_filter = ("read_at",)
    raw_id_fields = ("lead",)
