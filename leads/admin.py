from django import forms
from django.contrib import admin, messages
from django.db import models
from simple_history.admin import SimpleHistoryAdmin

from leads.models import Appointment, Contact, IdempotencyRecord, ImportJob, Lead, LeadEvent, LeadSource
from leads.services.api_keys import lead_source_issue_api_key, lead_source_revoke_api_key


@admin.register(Lead)
class LeadAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "phone", "email", "company", "status", "owner", "team", "source", "created_at")
    list_filter = ("status", "source", "team", "email_opt_out", "sms_opt_out", "call_opt_out")
    search_fields = ("first_name", "last_name", "phone", "email", "company")
    raw_id_fields = ("owner", "referred_by")
    list_select_related = ("owner", "team", "source")
    readonly_fields = ("updated_at", "first_response_at", "last_touch_at", "closed_at")
    date_hierarchy = "created_at"
    formfield_overrides = {models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}}

    def has_delete_permission(self, request, obj=None):
        # No lead left behind: leads are closed or merged, never deleted (the timeline stays).
        return False


@admin.register(LeadSource)
class LeadSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "cost_per_lead", "active", "api_key_prefix", "api_key_state")
    list_filter = ("active", "team")
    search_fields = ("name", "api_key_prefix")
    readonly_fields = ("api_key_prefix", "api_key_revoked_at", "created_at")
    list_select_related = ("team",)
    actions = ("issue_api_key", "revoke_api_key")

    @admin.display(description="API key")
    def api_key_state(self, source):
        if not source.api_key_hash:
            return "none"
        if source.api_key_revoked_at:
            return f"revoked {source.api_key_revoked_at:%Y-%m-%d}"
        return "active"

    @admin.action(description="Issue a new API key (replaces the current one)")
    def issue_api_key(self, request, queryset):
        for source in queryset:
            raw_key = lead_source_issue_api_key(source=source)
            # The only time the key is shown: only its hash is stored.
            self.message_user(
                request,
                f"New API key for {source.name}: {raw_key} (copy it now; it will not be shown again).",
                messages.WARNING,
            )

    @admin.action(description="Revoke the API key")
    def revoke_api_key(self, request, queryset):
        count = 0
        for source in queryset.filter(api_key_revoked_at__isnull=True).exclude(api_key_hash=""):
            lead_source_revoke_api_key(source=source)
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


@admin.register(LeadEvent)
class LeadEventAdmin(admin.ModelAdmin):
    list_display = ("lead", "kind", "text", "actor", "created_at")
    list_filter = ("kind",)
    search_fields = ("text", "lead__first_name", "lead__last_name", "lead__phone")
    raw_id_fields = ("lead", "actor")
    list_select_related = ("lead", "actor")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "company", "phone", "email", "owner", "last_referral_call_at")
    search_fields = ("first_name", "last_name", "phone", "email", "company")
    raw_id_fields = ("owner", "lead")
    list_select_related = ("owner",)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "filename",
        "status",
        "created_by",
        "source",
        "processed_rows",
        "total_rows",
        "created_count",
        "duplicate_count",
        "error_count",
        "created_at",
    )
    list_filter = ("status",)
    raw_id_fields = ("created_by",)
    list_select_related = ("created_by", "source")
    readonly_fields = ("created_at", "finished_at")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("source", "key", "status_code", "created_at")
    search_fields = ("key",)
    list_select_related = ("source",)
    readonly_fields = ("created_at",)


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["lead", "rep", "starts_at", "status"]
    list_filter = ["status"]
    raw_id_fields = ["lead", "rep", "created_by"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email"]
