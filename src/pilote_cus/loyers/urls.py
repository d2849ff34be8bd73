from django.urls import path

from . import views

app_name = "loyers"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:organisme>/maximaux/", views.maximaux, name="maximaux"),
    path("<int:organisme>/maximaux/export/", views.maximaux_export, name="maximaux_export"),
    path("<int:organisme>/sls/", views.simulation_sls, name="sls"),
    path("<int:organisme>/sls/retenir/", views.retenir_bareme, name="sls_retenir"),
    path("<int:organisme>/sls/export/", views.export_sls, name="sls_export"),
    path("<int:organisme>/sls/annexe.pdf", views.annexe_sls, name="sls_annexe"),
]
