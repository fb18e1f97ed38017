from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """The ways leads come in besides the phone form: the web-to-lead API and CSV import.

    No models of its own (import jobs and idempotency records are leads' tables): this app sits
    on top of reactions.intake, which every path feeds.
    """

    name = "intake"
    verbose_name = "Lead intake"
