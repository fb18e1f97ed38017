from django.contrib import admin

from messaging.models import EarlyStatusCallback, InboundEmail, MailboxState, Message, OptOut, Suppression


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


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Every email received, as received (replies, auto-replies, bounces; unmatched ones too)."""

    list_display = ("received_at", "kind", "state", "from_address", "subject", "lead", "matched_by", "via")
    list_filter = ("kind", "state", "via")
    search_fields = ("from_address", "subject", "message_id")
    raw_id_fields = ("lead", "handled_by")
    list_select_related = ("lead",)
    exclude = ("raw",)
    readonly_fields = ("received_at",)


@admin.register(MailboxState)
class MailboxStateAdmin(admin.ModelAdmin):
    """Where the IMAP poller is in each mailbox folder."""

    list_display = ("mailbox", "uid_validity", "last_uid", "polled_at", "last_error")
    readonly_fields = ("polled_at",)
