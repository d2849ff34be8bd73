from django.apps import AppConfig


class ConventionsConfig(AppConfig):
    name = "pilote_cus.conventions"
    label = "conventions"
    verbose_name = "Conventions d'utilité sociale"
