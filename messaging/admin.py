from django.contrib import admin

from messaging.models import EarlyStatusCallback, Message, OptOut, Suppression


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "direction", "channel", "status", "to", "lead", "provider_message_id", "error_code")
    list_filter = ("direction", "channel", "status")
    search_fields = ("to", "sender", "provider_message_id", "subject")
    raw_id_fields = ("lead", "touch")
    list_select_related = ("lead",)
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "created_at"


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ("created_at", "lead", "channel", "opted_out", "source")
    list_filter = ("channel", "opted_out")
    search_fields = ("source",)
    raw_id_fields = ("lead",)
    list_select_related = ("lead",)
    readonly_fields = ("created_at",)


@admin.register(EarlyStatusCallback)
class EarlyStatusCallbackAdmin(admin.ModelAdmin):
    """Twilio status callbacks waiting for their text's id to be recorded (usually for a moment)."""

    list_display = ("received_at", "sid", "status", "error_code")
    list_filter = ("status",)
    search_fields = ("sid",)
    readonly_fields = ("received_at",)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Consent per person: a number or address opted out on any lead (messaging/suppressions.py)."""

    list_display = ("updated_at", "channel", "address", "opted_out", "source", "lead")
    list_filter = ("channel", "opted_out")
    search_fields = ("address", "source")
    raw_id_fields = ("lead",)
    list_select_related = ("lead",)
