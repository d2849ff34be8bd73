from django.urls import path

from . import views

app_name = "tableaux"
urlpatterns = [
    path("bailleur/", views.bailleur, name="bailleur"),
    path("imports/", views.imports, name="imports"),
    path("etat/", views.console_etat, name="console_etat"),
]
