from django.apps import AppConfig


class ClassementConfig(AppConfig):
    name = "pilote_cus.classement"
    label = "classement"
    verbose_name = "Classement au service rendu"
