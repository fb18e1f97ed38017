from django.contrib import admin

from reports.models import ReportDelivery


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):
    list_display = ("week_start", "recipient", "kind", "sent_at")
    list_filter = ("week_start", "kind")
    readonly_fields = ("created_at",)
