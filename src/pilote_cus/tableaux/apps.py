from django.apps import AppConfig


class TableauxConfig(AppConfig):
    name = "pilote_cus.tableaux"
    label = "tableaux"
    verbose_name = "Tableaux de bord"
