from django.apps import AppConfig


class RapportsConfig(AppConfig):
    name = "pilote_cus.rapports"
    verbose_name = "Documents"
