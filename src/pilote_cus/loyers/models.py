"""What the landlord keeps from its simulations: the SLS modulation it proposes in its convention."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..comptes.models import Organisme


class BaremeSLS(models.Model):
    """A modulated SLS scale (the mapping read by `simulation.scale_from_mapping`); at most one is retained
    per landlord: the one the convention's SLS annex shows."""

    organisme = models.ForeignKey(Organisme, on_delete=models.CASCADE, related_name="baremes_sls")
    nom = models.CharField(max_length=120)
    bareme = models.JSONField()  # {"a_20_pct": 0.2, "tranches": [{"de": 21, "a": 59, "par_point": 0.05}, …]}
    retenu = models.BooleanField(default=False)
    synthese = models.JSONField(default=dict, blank=True)  # the simulation's summary when it was saved
    cree_par = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    cree_le = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisme__nom", "-cree_le", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisme"], condition=Q(retenu=True), name="bareme_sls_un_retenu"),
        ]

    def __str__(self) -> str:
        return f"{self.nom} ({self.organisme})"
