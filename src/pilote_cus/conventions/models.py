from django.conf import settings
from django.db import models
from django.dispatch import Signal

from ..comptes.models import Collectivite, Organisme

# sent with `convention` whenever its objectives change (kept figures computed from them are then stale)
objectifs_modifies = Signal()


class Statut(models.TextChoices):
    ELABORATION = "elaboration", "En élaboration"
    CONCERTATION = "concertation", "En concertation"
    DEPOSEE = "deposee", "Déposée auprès de l'État"
    INSTRUCTION = "instruction", "En instruction"
    A_MODIFIER = "a_modifier", "Modifications demandées"
    A_SIGNER = "a_signer", "Prête pour signature"
    SUIVI = "suivi", "Signée — suivi annuel"
    EVALUATION = "evaluation", "En évaluation"
    TERMINEE = "terminee", "Terminée"
    REMPLACEE = "remplacee", "Remplacée par un avenant"


class Politique(models.TextChoices):
    PATRIMONIALE = "patrimoniale", "Politique patrimoniale"
    SOCIALE = "sociale", "Politique sociale"
    QUALITE = "qualite", "Qualité de service"


class Convention(models.Model):
    organisme = models.ForeignKey(Organisme, on_delete=models.PROTECT, related_name="conventions")
    generation = models.PositiveSmallIntegerField(default=2)
    titre = models.CharField(max_length=200)
    annee_debut = models.PositiveSmallIntegerField()
    annee_fin = models.PositiveSmallIntegerField()
    statut = models.CharField(max_length=14, choices=Statut.choices, default=Statut.ELABORATION, db_index=True)
    statut_depuis = models.DateTimeField(auto_now_add=True)
    echeance = models.DateField("prochaine échéance", null=True, blank=True)
    version = models.PositiveSmallIntegerField(default=1)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="avenants")
    horizon_evaluation = models.PositiveSmallIntegerField(null=True, blank=True)
    collectivites = models.ManyToManyField(Collectivite, blank=True, related_name="conventions")
    etat_des_lieux = models.JSONField("état des lieux (résumé)", default=dict, blank=True)
    pdf_signe = models.FileField("convention signée (PDF)", upload_to="conventions/signees/", blank=True)
    cree_le = models.DateTimeField(auto_now_add=True)
    cree_par = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["organisme__nom", "-version"]

    def __str__(self) -> str:
        suffix = f" — avenant n° {self.version - 1}" if self.version > 1 else ""
        return f"{self.titre}{suffix}"

    @property
    def est_avenant(self) -> bool:
        return self.parent_id is not None


class Section(models.Model):
    """Text per policy: the orientations stratégiques and the programme d'actions."""

    NATURES = [("orientations", "Orientations stratégiques"), ("programme", "Programme d'actions")]
    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="sections")
    politique = models.CharField(max_length=12, choices=Politique.choices)
    nature = models.CharField(max_length=12, choices=NATURES)
    texte = models.TextField(blank=True)
    modifie_le = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["convention", "politique", "nature"], name="section_unique"),
        ]


class Objectif(models.Model):
    """One commitment: indicator × territory × period (a year or a cumulated horizon such as 2019-2021)."""

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="objectifs")
    code = models.CharField(max_length=30)
    maille = models.CharField(max_length=12)
    code_territoire = models.CharField(max_length=40)
    periode = models.CharField(max_length=9)
    valeur = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["convention", "code", "maille", "code_territoire", "periode"], name="objectif_unique"
            ),
        ]
        ordering = ["code", "maille", "code_territoire", "periode"]


class Commentaire(models.Model):
    """A comment of a concertation partner, of the State or of the landlord; an answer points to its comment."""

    ETAPES = [("concertation", "Concertation"), ("instruction", "Instruction"), ("evaluation", "Évaluation")]
    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="commentaires")
    auteur = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    etape = models.CharField(max_length=12, choices=ETAPES)
    cible = models.CharField("section ou objectif visé", max_length=80, blank=True)
    texte = models.TextField()
    demande_modification = models.BooleanField(default=False)
    reponse_a = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="reponses")
    cree_le = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["cree_le", "id"]


class Signataire(models.Model):
    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="signataires")
    nom = models.CharField(max_length=120)
    qualite = models.CharField(max_length=160)
    organisation = models.CharField(max_length=200)
    collectivite = models.ForeignKey(Collectivite, null=True, blank=True, on_delete=models.PROTECT)
    date_signature = models.DateField(null=True, blank=True)


class Appreciation(models.Model):
    """The State's assessment of one engagement at 3 or 6 years, and the landlord's explanation."""

    AVIS = [
        ("respecte", "Engagement respecté"),
        ("partiel", "Engagement partiellement respecté"),
        ("non_respecte", "Engagement non respecté"),
        ("non_imputable", "Écart non imputable au bailleur"),
    ]
    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="appreciations")
    horizon = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=30)
    maille = models.CharField(max_length=12)
    code_territoire = models.CharField(max_length=40)
    avis_etat = models.CharField(max_length=14, choices=AVIS, blank=True)
    commentaire_etat = models.TextField(blank=True)
    explication_bailleur = models.TextField(blank=True)
    modifie_le = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["convention", "horizon", "code", "maille", "code_territoire"], name="appreciation_unique"
            ),
        ]


class Bilan(models.Model):
    """What the State enters for an evaluation at 3 or 6 years: the last year's TFPB exemption (penalty ceiling)."""

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="bilans")
    horizon = models.PositiveSmallIntegerField()
    exoneration_tfpb = models.DecimalField(
        "exonération de TFPB de la dernière année (€)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    modifie_le = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["convention", "horizon"], name="bilan_unique")]
