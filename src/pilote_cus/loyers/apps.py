from django.apps import AppConfig


class LoyersConfig(AppConfig):
    name = "pilote_cus.loyers"
    verbose_name = "Loyers maximaux et SLS"
