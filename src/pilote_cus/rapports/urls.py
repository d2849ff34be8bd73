from django.urls import path

from . import views

app_name = "rapports"
urlpatterns = [
    path("convention/<int:pk>.<str:format>", views.convention, name="convention"),
]
