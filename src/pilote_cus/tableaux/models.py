from django.conf import settings
from django.db import models

from ..comptes.models import Organisme


class Publication(models.Model):
    """One publication of indicator results from the warehouse (the data freshness shown on dashboards)."""

    publie_le = models.DateTimeField(auto_now_add=True)
    catalogue = models.CharField(max_length=40)
    instantanes = models.TextField("instantanés utilisés")
    resultats = models.PositiveIntegerField(default=0)
    duree_s = models.FloatField(default=0)
    active = models.BooleanField(default=True, db_index=True)


class Resultat(models.Model):
    """One indicator value, as `cus indicateurs` writes it. `organisme` empty: all landlords summed."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="lignes")
    organisme = models.ForeignKey(Organisme, null=True, blank=True, on_delete=models.CASCADE)
    generation = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=30)
    indicateur = models.CharField(max_length=30)
    libelle = models.TextField()
    maille = models.CharField(max_length=12)
    code_territoire = models.CharField(max_length=40)
    periode = models.CharField(max_length=9)
    numerateur = models.FloatField(null=True)
    denominateur = models.FloatField(null=True)
    valeur = models.FloatField(null=True)
    unite = models.CharField(max_length=60)
    certitude = models.CharField(max_length=20)
    instantanes = models.TextField()

    class Meta:
        indexes = [
            # a landlord's rows, and the exact lookup of one objective's result (console, follow-up)
            models.Index(
                fields=["publication", "organisme", "generation", "maille", "code", "code_territoire", "periode"],
                name="resultat_organisme_cle",
            ),
            models.Index(fields=["publication", "generation", "maille", "code_territoire", "periode"]),
        ]


class Televersement(models.Model):
    """A file uploaded through the imports page and what became of it."""

    ETATS = [("attente", "En attente"), ("en_cours", "En cours"), ("importe", "Importé"), ("refuse", "Refusé")]
    organisme = models.ForeignKey(Organisme, on_delete=models.CASCADE, related_name="televersements")
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    nature = models.CharField(max_length=20)
    millesime = models.PositiveSmallIntegerField(null=True, blank=True)
    fichier = models.FileField(upload_to="imports/")
    nom_fichier = models.CharField(max_length=255)
    etat = models.CharField(max_length=10, choices=ETATS, default="attente")
    progression = models.PositiveSmallIntegerField(default=0)
    etape = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    rapport = models.JSONField(null=True, blank=True)
    instantane = models.CharField(max_length=80, blank=True)
    cree_le = models.DateTimeField(auto_now_add=True)
    termine_le = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-cree_le", "-id"]


class HorsTrajectoire(models.Model):
    """How many engagements of a convention are off track against a publication, kept so that the State's
    console reads one row per convention. Dropped whenever one of the convention's objectives changes."""

    convention = models.OneToOneField("conventions.Convention", on_delete=models.CASCADE, related_name="+")
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="+")
    nombre = models.PositiveIntegerField()
