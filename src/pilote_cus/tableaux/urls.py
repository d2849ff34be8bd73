from django.urls import path

from . import views, views_imports

app_name = "tableaux"
urlpatterns = [
    path("bailleur/", views.bailleur, name="bailleur"),
    path("bailleur/resultats/", views.bailleur_partiel, name="bailleur_partiel"),
    path("bailleur/export/", views.bailleur_export, name="bailleur_export"),
    path("imports/", views_imports.imports, name="imports"),
    path("imports/<int:pk>/etat/", views_imports.import_etat, name="import_etat"),
    path("imports/<int:pk>/rapport.csv", views_imports.import_rapport, name="import_rapport"),
    path("etat/", views.console_etat, name="console_etat"),
    path("etat/export/", views.console_export, name="console_export"),
    path("etat/consolidation/", views.consolidation, name="consolidation"),
    path("etat/consolidation/export/", views.consolidation_export, name="consolidation_export"),
    path("etat/bailleurs/<int:pk>/", views.detail_bailleur, name="detail_bailleur"),
]
