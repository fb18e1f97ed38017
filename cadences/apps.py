from django.apps import AppConfig


class CadencesConfig(AppConfig):
    name = "cadences"
