"""Who works on the CUS. A user has one role; the role says which fields hold the perimeter."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class Organisme(models.Model):
    """A social landlord; `code` is the identifier used in the warehouse (column `organisme`)."""

    code = models.CharField("identifiant", max_length=20, unique=True)
    nom = models.CharField("raison sociale", max_length=200)

    class Meta:
        ordering = ["nom"]

    def __str__(self) -> str:
        return self.nom


class Implantation(models.Model):
    """Where a landlord owns dwellings (from the latest RPLS snapshot): drives the State's perimeter."""

    organisme = models.ForeignKey(Organisme, on_delete=models.CASCADE, related_name="implantations")
    departement = models.CharField(max_length=3)
    region = models.CharField(max_length=2)
    logements = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisme", "departement"], name="implantation_unique")]
        indexes = [models.Index(fields=["departement"]), models.Index(fields=["region"])]


class Collectivite(models.Model):
    TYPES = [("departement", "Département"), ("epci", "EPCI"), ("commune", "Commune")]
    nom = models.CharField(max_length=200)
    type_territoire = models.CharField(max_length=12, choices=TYPES)
    code_territoire = models.CharField(max_length=9)

    def __str__(self) -> str:
        return self.nom


class Association(models.Model):
    """A tenants' association: it reads and comments its landlord's concertation documents."""

    nom = models.CharField(max_length=200)
    organisme = models.ForeignKey(Organisme, on_delete=models.CASCADE, related_name="associations")

    def __str__(self) -> str:
        return self.nom


class Role(models.TextChoices):
    BAILLEUR = "bailleur", "Bailleur"
    ETAT = "etat", "État"
    COLLECTIVITE = "collectivite", "Collectivité signataire"
    ASSOCIATION = "association", "Association de locataires"
    ADMINISTRATEUR = "administrateur", "Administrateur"


class Utilisateur(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.BAILLEUR)
    organismes = models.ManyToManyField(Organisme, blank=True, related_name="utilisateurs")
    departement = models.CharField("département (État)", max_length=3, blank=True)
    region = models.CharField("région (État)", max_length=2, blank=True)
    collectivite = models.ForeignKey(Collectivite, null=True, blank=True, on_delete=models.PROTECT)
    association = models.ForeignKey(Association, null=True, blank=True, on_delete=models.PROTECT)

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def territoire_etat(self) -> str:
        if self.departement:
            return f"département {self.departement}"
        return f"région {self.region}" if self.region else "aucun territoire"
