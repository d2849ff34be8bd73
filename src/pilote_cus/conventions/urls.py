from django.urls import path

from . import views, views_objectifs, views_suivi

app_name = "conventions"
urlpatterns = [
    path("", views.liste, name="liste"),
    path("nouvelle/", views.creer, name="creer"),
    path("echeances/", views.echeances, name="echeances"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/sections/<str:politique>/<str:nature>/", views.section, name="section"),
    path("<int:pk>/objectifs/", views_objectifs.objectifs, name="objectifs"),
    path("<int:pk>/objectifs/televerser/", views_objectifs.televerser, name="objectifs_televerser"),
    path("<int:pk>/objectifs/modele.xlsx", views_objectifs.modele, name="objectifs_modele"),
    path("<int:pk>/objectifs/objectifs.csv", views_objectifs.export_csv, name="objectifs_csv"),
    path("<int:pk>/commentaires/", views.commentaires_vue, name="commentaires"),
    path("<int:pk>/transition/<str:action>/", views.transition, name="transition"),
    path("<int:pk>/signature/", views_suivi.signature, name="signature"),
    path("<int:pk>/convention-signee.pdf", views_suivi.pdf_signe, name="pdf_signe"),
    path("<int:pk>/suivi/", views_suivi.suivi_vue, name="suivi"),
    path("<int:pk>/evaluation/<int:horizon>/", views_suivi.evaluation, name="evaluation"),
    path("<int:pk>/avenant/", views.avenant, name="avenant"),
]
