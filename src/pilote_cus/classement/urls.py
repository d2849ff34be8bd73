from django.urls import path

from . import views

app_name = "classement"
urlpatterns = [
    path("", views.liste, name="liste"),
    path("nouvelle/", views.creer, name="creer"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/partager/", views.partager, name="partager"),
    path("<int:pk>/adopter/", views.adopter, name="adopter"),
    path("<int:pk>/commenter/", views.commenter, name="commenter"),
    path("<int:pk>/saisie/", views.saisir, name="saisir"),
    path("<int:pk>/export/", views.export, name="export"),
]
