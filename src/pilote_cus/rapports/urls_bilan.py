from django.urls import path

from . import views_bilan

app_name = "bilans"
urlpatterns = [
    path("convention/<int:pk>/bilan/", views_bilan.bilan, name="bilan"),
    path("convention/<int:pk>/evaluation/<int:horizon>/", views_bilan.evaluation, name="evaluation"),
    path("synthese-regionale/", views_bilan.synthese_regionale, name="synthese"),
]
