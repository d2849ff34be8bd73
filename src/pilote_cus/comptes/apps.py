from django.apps import AppConfig


class ComptesConfig(AppConfig):
    name = "pilote_cus.comptes"
    label = "comptes"
    verbose_name = "Comptes et périmètres"
