from django.conf import settings
from django.db import models


class Trace(models.Model):
    """One change: objectives, texts, statuses, classement, uploads. Never updated, never deleted."""

    horodatage = models.DateTimeField(auto_now_add=True, db_index=True)
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=60)
    objet = models.CharField(max_length=60)
    objet_id = models.CharField(max_length=40, blank=True)
    convention = models.ForeignKey(
        "conventions.Convention", null=True, blank=True, on_delete=models.SET_NULL, related_name="traces"
    )
    organisme = models.ForeignKey("comptes.Organisme", null=True, blank=True, on_delete=models.SET_NULL)
    avant = models.JSONField(null=True, blank=True)
    apres = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-horodatage", "-id"]
