from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "pilote_cus.web"
    label = "web"
    verbose_name = "Application web"
