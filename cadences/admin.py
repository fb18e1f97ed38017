"""Django admin for cadences, enrollments and touches: operators' view of the data.

Steps are read-only here: the cadence editor (/cadences/) versions a step that touches
already use, which a plain admin form would change in place under running enrollments.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from cadences.models import Cadence, CadenceStep, Enrollment, Snippet, Touch


class CadenceStepInline(admin.TabularInline):
    model = CadenceStep
    fields = ["day", "position", "channel", "automated", "send_hour", "fresh_minutes", "subject", "retired_at"]
    readonly_fields = fields
    ordering = ["retired_at", "day", "position", "id"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Cadence)
class CadenceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "intake_via", "active", "is_default", "instant_response", "updated_at", "editor"]
    list_filter = ["kind", "intake_via", "active", "is_default", "business_days_only", "instant_response"]
    search_fields = ["name", "description", "interest_keywords"]
    filter_horizontal = ["sources"]
    readonly_fields = ["created_at", "updated_at", "editor"]
    inlines = [CadenceStepInline]

    @admin.display(description="Steps")
    def editor(self, obj):
        if not obj.pk:
            return "—"
        url = reverse("cadences:detail", args=[obj.pk])
        return format_html('<a href="{}">Edit steps in the cadence editor</a>', url)

    def save_model(self, request, obj, form, change):
        # Keep "only one default" without tripping the constraint: unset the previous one first.
        if obj.is_default:
            Cadence.objects.filter(is_default=True).exclude(pk=obj.pk).update(is_default=False)
        super().save_model(request, obj, form, change)


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["id", "lead", "cadence", "state", "started_at", "paused_at", "ended_at", "exit_reason"]
    list_filter = ["state", "cadence"]
    list_select_related = ["lead", "cadence"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "lead__phone"]
    raw_id_fields = ["lead", "created_by"]
    date_hierarchy = "started_at"


@admin.register(Touch)
class TouchAdmin(admin.ModelAdmin):
    list_display = ["id", "lead", "channel", "automated", "status", "due_at", "assigned_to", "outcome", "sent_at"]
    list_filter = ["status", "channel", "automated", "urgent", "outcome"]
    list_select_related = ["lead", "assigned_to"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "lead__phone", "provider_message_id"]
    raw_id_fields = ["lead", "enrollment", "step", "assigned_to", "completed_by"]
    date_hierarchy = "due_at"
    # Dispatch bookkeeping is written by the workers only (claims, provider ids).
    readonly_fields = [
        "claimed_at",
        "claim_token",
        "claimed_by",
        "lease_expires_at",
        "send_started_at",
        "send_attempts",
        "provider_message_id",
        "sent_at",
        "created_at",
    ]


@admin.register(Snippet)
class SnippetAdmin(admin.ModelAdmin):
    """Saved answers reps pick when they write to a lead from the app."""

    list_display = ("title", "channel", "subject", "created_by", "created_at")
    list_filter = ("channel",)
    search_fields = ("title", "subject", "body")
    raw_id_fields = ("created_by",)
