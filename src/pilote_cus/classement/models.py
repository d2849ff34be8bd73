"""The concertation of the classement: versions of a landlord's results and the associations' comments."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..comptes.models import Organisme


class StatutVersion(models.TextChoices):
    PROJET = "projet", "Projet"
    PARTAGEE = "partagee", "Partagée avec les associations"
    ADOPTEE = "adoptee", "Adoptée"
    REMPLACEE = "remplacee", "Remplacée par une version adoptée plus récente"


class VersionClassement(models.Model):
    """One computation of the classement: the grid used, the results per ensemble and its status."""

    organisme = models.ForeignKey(Organisme, on_delete=models.CASCADE, related_name="versions_classement")
    numero = models.PositiveIntegerField()
    grille_toml = models.TextField()
    grille_version = models.CharField(max_length=60)
    grille_nom = models.CharField(max_length=200, blank=True)
    resultats = models.JSONField()
    statut = models.CharField(max_length=20, choices=StatutVersion.choices, default=StatutVersion.PROJET)
    remplacee_par = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="remplace")
    cree_par = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    cree_le = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisme__nom", "-numero"]
        constraints = [
            models.UniqueConstraint(fields=["organisme", "numero"], name="classement_numero_unique"),
            models.UniqueConstraint(fields=["organisme"], condition=Q(statut="adoptee"), name="classement_une_adoptee"),
        ]

    def __str__(self) -> str:
        return f"Classement {self.organisme} — version {self.numero}"

    @property
    def ensembles(self) -> list[dict]:
        return list(self.resultats.get("ensembles", []))

    def ensemble(self, ensemble_id: str) -> dict | None:
        return next((e for e in self.ensembles if e["id"] == ensemble_id), None)

    @property
    def criteres(self) -> list[dict]:
        return list(self.resultats.get("criteres", []))


class CommentaireClassement(models.Model):
    """A comment of an association on one ensemble (and optionally one criterion), or the landlord's answer."""

    version = models.ForeignKey(VersionClassement, on_delete=models.CASCADE, related_name="commentaires")
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    ensemble = models.CharField(max_length=100)
    critere = models.CharField(max_length=100, blank=True)
    texte = models.TextField()
    reponse_a = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="reponses")
    cree_le = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cree_le", "id"]

    def __str__(self) -> str:
        return f"Commentaire sur l'ensemble {self.ensemble}"
