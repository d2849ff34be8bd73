"""Yearly follow-up and evaluations: each objective beside the published result (database only).

The results come from the active `tableaux.Publication`; the warehouse is never read at request time.
"""

from decimal import Decimal
from typing import Any

from django.db import transaction

from ..audit.journal import record
from ..comptes.models import Utilisateur
from ..indicateurs.objectifs import status
from ..tableaux.models import Publication, Resultat
from . import engagements, regles
from .etat_des_lieux import logements
from .models import Appreciation, Bilan, Convention, Objectif


def publication_active() -> Publication | None:
    return Publication.objects.filter(active=True).order_by("-publie_le", "-pk").first()


def lignes(
    convention: Convention, objectifs: list[Objectif], territoire: tuple[str, list[str]] | None = None
) -> tuple[Publication | None, list[dict[str, Any]]]:
    """One row per objective: published numerator, denominator and value, objective and status.

    `territoire` (maille, codes) keeps only the objectives of one territory (a collectivity's view).
    """
    if territoire is not None:
        maille, codes = territoire
        objectifs = [o for o in objectifs if o.maille == maille and o.code_territoire in codes]
    publication = publication_active()
    found: dict[tuple[str, str, str, str], Resultat] = {}
    if publication is not None and objectifs:
        results = Resultat.objects.filter(
            publication=publication,
            organisme=convention.organisme,
            generation=convention.generation,
            code__in={o.code for o in objectifs},
            maille__in={o.maille for o in objectifs},
            code_territoire__in={o.code_territoire for o in objectifs},
            periode__in={o.periode for o in objectifs},
        ).only("code", "maille", "code_territoire", "periode", "numerateur", "denominateur", "valeur")
        found = {(r.code, r.maille, r.code_territoire, r.periode): r for r in results}
    rows = []
    for o in objectifs:
        result = found.get(engagements.key(o))
        indicator = engagements.indicator(convention, o.code)
        value = result.valeur if result else None
        rows.append(
            {
                "objectif": o,
                "libelle": indicator.libelle if indicator else o.code,
                "unite": indicator.unite if indicator else "",
                "resultat": result,
                "numerateur": result.numerateur if result else None,
                "denominateur": result.denominateur if result else None,
                "valeur": value,
                "statut": (status(indicator, value, o.valeur) if indicator and result else "non publié"),
            }
        )
    return publication, rows


def annees_publiees(convention: Convention) -> list[int]:
    """The convention's years for which the active publication has the landlord's results (one query)."""
    publication = publication_active()
    if publication is None:
        return []
    years = [str(y) for y in range(convention.annee_debut, convention.annee_fin + 1)]
    found = (
        Resultat.objects.filter(
            publication=publication,
            organisme=convention.organisme,
            generation=convention.generation,
            periode__in=years,
        )
        .values_list("periode", flat=True)
        .distinct()
    )
    return sorted(int(p) for p in found)


def evaluation(convention: Convention, horizon: int, territoire: tuple[str, list[str]] | None = None) -> dict[str, Any]:
    """The engagements of the horizon's period, with realised values, statuses and appreciations.

    `territoire` narrows them as in `lignes` (a collectivity's view)."""
    periode = regles.periode_horizon(convention.annee_debut, horizon)
    objectifs = list(convention.objectifs.filter(periode=periode))
    publication, rows = lignes(convention, objectifs, territoire)
    appreciations = {(a.code, a.maille, a.code_territoire): a for a in convention.appreciations.filter(horizon=horizon)}
    for row in rows:
        o = row["objectif"]
        row["appreciation"] = appreciations.get((o.code, o.maille, o.code_territoire))
    bilan = Bilan.objects.filter(convention=convention, horizon=horizon).first()
    exoneration = bilan.exoneration_tfpb if bilan else None
    dwellings = logements(convention.etat_des_lieux)
    if dwellings is None:
        dwellings = sum(convention.organisme.implantations.values_list("logements", flat=True)) or None
    return {
        "periode": periode,
        "publication": publication,
        "lignes": rows,
        "logements": dwellings,
        "exoneration_tfpb": exoneration,
        "plafond_par_logement": regles.plafond_par_logement(),
        "plafond": regles.plafond_penalite(dwellings, exoneration),
    }


APPRECIATION_FIELDS = {"etat": ("avis_etat", "commentaire_etat"), "bailleur": ("explication_bailleur",)}


def apprecier(
    user: Utilisateur, convention: Convention, horizon: int, objectif: Objectif, values: dict[str, str]
) -> Appreciation | None:
    """Save the State's avis/comment or the landlord's explanation on one engagement; traced if changed."""
    fields = APPRECIATION_FIELDS[user.role]
    with transaction.atomic():
        appreciation, _ = Appreciation.objects.select_for_update().get_or_create(
            convention=convention,
            horizon=horizon,
            code=objectif.code,
            maille=objectif.maille,
            code_territoire=objectif.code_territoire,
        )
        before = {f: getattr(appreciation, f) for f in fields}
        after = {f: values.get(f, "") for f in fields}
        if before == after:
            return None
        for f, v in after.items():
            setattr(appreciation, f, v)
        appreciation.save()
        record(
            user,
            "appreciation_enregistree",
            appreciation,
            convention=convention,
            avant={"horizon": horizon, "engagement": engagements.label(objectif), **before},
            apres={"horizon": horizon, "engagement": engagements.label(objectif), **after},
        )
    return appreciation


def enregistrer_exoneration(user: Utilisateur, convention: Convention, horizon: int, montant: Decimal | None) -> None:
    with transaction.atomic():
        bilan, _ = Bilan.objects.select_for_update().get_or_create(convention=convention, horizon=horizon)
        before = bilan.exoneration_tfpb
        if before == montant:
            return
        bilan.exoneration_tfpb = montant
        bilan.save()
        record(
            user,
            "exoneration_tfpb_saisie",
            bilan,
            convention=convention,
            avant={"horizon": horizon, "exoneration_tfpb": str(before) if before is not None else None},
            apres={"horizon": horizon, "exoneration_tfpb": str(montant) if montant is not None else None},
        )
