from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.accueil, name="accueil"),
    path(
        "connexion/",
        auth_views.LoginView.as_view(template_name="web/connexion.html", redirect_authenticated_user=True),
        name="connexion",
    ),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="deconnexion"),
    path("journal/", views.journal, name="journal"),
    path("conventions/", include("pilote_cus.conventions.urls")),
    path("tableaux/", include("pilote_cus.tableaux.urls")),
    path("classement/", include("pilote_cus.classement.urls")),
    path("loyers/", include("pilote_cus.loyers.urls")),
    path("documents/bilans/", include("pilote_cus.rapports.urls_bilan")),
    path("documents/", include("pilote_cus.rapports.urls")),
    path("administration/", admin.site.urls),
]
handler403 = "pilote_cus.web.views.interdit"
handler404 = "pilote_cus.web.views.introuvable"
