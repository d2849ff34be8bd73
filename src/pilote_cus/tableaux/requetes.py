"""Dashboard queries over the application database only (published results, objectives, conventions).

Every query filters on the active publication and uses the `Resultat` indexes; aggregation is done by the
database; no function here reads the warehouse.
"""

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Sum, Value, When

from ..comptes.models import Implantation, Organisme
from ..conventions.models import Convention, Objectif, Statut
from ..geographie.referentiel import departement_of, gazetteer
from ..indicateurs.catalogue import POLICY_LABELS, Indicator, catalogue
from ..indicateurs.objectifs import status
from .models import HorsTrajectoire, Publication, Resultat

OFF_TRACK = ("non atteint", "partiellement atteint")
ROW_FIELDS = (
    "code",
    "indicateur",
    "libelle",
    "maille",
    "code_territoire",
    "periode",
    "numerateur",
    "denominateur",
    "valeur",
    "unite",
)


def active_publication() -> Publication | None:
    return Publication.objects.filter(active=True).order_by("-publie_le", "-pk").first()


@cache
def indicators() -> dict[str, Indicator]:
    return catalogue().by_code()


@cache
def codes_by_direction() -> tuple[list[str], list[str]]:
    """Output codes (with ventilations) whose objective is a floor ("hausse") or a ceiling ("baisse")."""
    up: list[str] = []
    down: list[str] = []
    for i in catalogue().indicators:
        codes = [i.code, *(f"{i.code}-{v}" for v in i.ventilations)]
        (up if i.sens == "hausse" else down).extend(codes)
    return up, down


def policy_codes(politique: str) -> list[str]:
    return [i.code for i in catalogue().indicators if i.politique == politique]


def policies() -> dict[str, str]:
    return POLICY_LABELS


def current_convention(conventions: QuerySet[Convention], organisme: Organisme) -> Convention | None:
    """The landlord's convention in force (signed, being followed or evaluated), else the one in preparation.

    The published results describe past years: the signed convention's objectives are the ones they meet.
    """
    in_force = Case(When(statut__in=(Statut.SUIVI, Statut.EVALUATION), then=Value(0)), default=Value(1))
    return (
        conventions.filter(organisme=organisme)
        .exclude(statut=Statut.REMPLACEE)
        .order_by(in_force, "-annee_debut", "-version", "-pk")
        .first()
    )


@dataclass
class Filtres:
    generation: int
    departement: str = ""
    periode: str = ""
    politique: str = ""


def periods(publication: Publication | None, generation: int) -> list[str]:
    if publication is None:
        return []
    found = (
        Resultat.objects.filter(publication=publication, organisme=None, generation=generation, maille="france")
        .values_list("periode", flat=True)
        .distinct()
    )
    return sorted(found, key=lambda p: (len(p), p))


def landlord_rows(publication: Publication, organisme: Organisme, f: Filtres) -> list[dict[str, Any]]:
    """The landlord's results by département (one landlord × one département), filtered."""
    rows = Resultat.objects.filter(
        publication=publication, organisme=organisme, generation=f.generation, maille="departement"
    )
    if f.departement:
        rows = rows.filter(code_territoire=f.departement)
    if f.periode:
        rows = rows.filter(periode=f.periode)
    if f.politique:
        rows = rows.filter(indicateur__in=policy_codes(f.politique))
    return list(rows.order_by("indicateur", "code", "code_territoire", "periode").values(*ROW_FIELDS))


def with_objectives(rows: list[dict[str, Any]], convention: Convention | None) -> list[dict[str, Any]]:
    """Attach the convention's objective and the status to each row (one query)."""
    objectives: dict[tuple[str, str, str, str], float] = {}
    if convention is not None and rows:
        found = Objectif.objects.filter(
            convention=convention,
            code__in={r["code"] for r in rows},
            periode__in={r["periode"] for r in rows},
        ).values_list("code", "maille", "code_territoire", "periode", "valeur")
        objectives = {(c, m, t, p): v for c, m, t, p, v in found}
    by_code = indicators()
    for r in rows:
        objective = objectives.get((r["code"], r["maille"], r["code_territoire"], r["periode"]))
        indicator = by_code.get(r["indicateur"])
        r["objectif"] = objective
        r["statut"] = status(indicator, r["valeur"], objective) if indicator else ""
        r["politique"] = POLICY_LABELS.get(indicator.politique, "") if indicator else ""
    return rows


def departements_of(organisme: Organisme) -> list[str]:
    return list(organisme.implantations.order_by("departement").values_list("departement", flat=True))


def off_track_counts(conventions: QuerySet[Convention], publication: Publication | None) -> dict[int, int]:
    """Number of engagements off track per convention: the kept counts, the missing ones computed and kept."""
    if publication is None:
        return {}
    kept = HorsTrajectoire.objects.filter(publication=publication)
    counts = dict(kept.filter(convention__in=conventions.values("pk")).values_list("convention_id", "nombre"))
    missing = conventions.exclude(pk__in=kept.values("convention_id"))
    computed = _off_track_live(missing, publication)
    missing_ids = list(missing.values_list("pk", flat=True))
    HorsTrajectoire.objects.bulk_create(
        [HorsTrajectoire(convention_id=pk, publication=publication, nombre=computed.get(pk, 0)) for pk in missing_ids],
        update_conflicts=True,
        unique_fields=["convention"],
        update_fields=["publication", "nombre"],
        batch_size=500,
    )
    return counts | {pk: computed.get(pk, 0) for pk in missing_ids}


def _off_track_live(conventions: QuerySet[Convention], publication: Publication) -> dict[int, int]:
    """One query: the objectives joined to the published rows they are measured by."""
    up, down = codes_by_direction()
    missed = Resultat.objects.filter(
        publication=publication,
        organisme=OuterRef("convention__organisme"),
        generation=OuterRef("convention__generation"),
        code=OuterRef("code"),
        maille=OuterRef("maille"),
        code_territoire=OuterRef("code_territoire"),
        periode=OuterRef("periode"),
    ).filter(Q(code__in=up, valeur__lt=OuterRef("valeur")) | Q(code__in=down, valeur__gt=OuterRef("valeur")))
    counts = (
        Objectif.objects.filter(convention__in=conventions.values("pk"))
        .filter(Exists(missed))
        .values("convention")
        .annotate(n=Count("pk"))
    )
    return {c["convention"]: c["n"] for c in counts}


def console_rows(conventions: QuerySet[Convention], publication: Publication | None) -> list[dict[str, Any]]:
    today = date.today()
    counts = off_track_counts(conventions, publication)
    rows: list[dict[str, Any]] = []
    for found in conventions.order_by("organisme__nom", "-version").values(
        "pk",
        "titre",
        "version",
        "statut",
        "echeance",
        "generation",
        "organisme_id",
        "organisme__nom",
        "organisme__code",
    ):
        c: dict[str, Any] = dict(found)
        c["statut_libelle"] = Statut(c["statut"]).label
        c["en_retard"] = c["echeance"] is not None and c["echeance"] < today
        c["hors_trajectoire"] = counts.get(c["pk"], 0)
        rows.append(c)
    return rows


def region_of(departement: str) -> str:
    found = Implantation.objects.filter(departement=departement).exclude(region="").values_list("region", flat=True)
    return found.first() or ""


def regions_known() -> list[str]:
    return list(Implantation.objects.exclude(region="").values_list("region", flat=True).distinct().order_by("region"))


def region_departements(region: str) -> list[str]:
    found = Implantation.objects.filter(region=region).values_list("departement", flat=True).distinct()
    return sorted(found)


LANDLORD_WIDE = ("bailleur", "segment", "france")  # a landlord's objectives on its whole stock


@dataclass(frozen=True)
class RegionTerritories:
    """What lies in a région, for the objectives of its landlords (application database and built-in geography).

    Départements: those of the région's RPLS implantations and of the built-in gazetteer; a commune by its
    code's département; an EPCI by the départements of its gazetteer communes. A landlord-wide objective
    (bailleur, segment, France), or an EPCI the gazetteer does not know, lies in the région when all the
    landlord's dwellings do.
    """

    region: str
    departements: frozenset[str]
    epci: frozenset[str]
    epci_known: frozenset[str]
    landlords_inside: frozenset[int]

    def contains(self, maille: str, code: str, organisme_id: int) -> bool:
        if maille == "region":
            return code == self.region
        if maille == "departement":
            return code in self.departements
        if maille == "commune":
            return departement_of(code) in self.departements
        if maille == "bailleur_departement":
            return code.rsplit("|", 1)[-1] in self.departements
        if maille == "epci" and code in self.epci_known:
            return code in self.epci
        return (maille in LANDLORD_WIDE or maille == "epci") and organisme_id in self.landlords_inside


def region_territories(region: str) -> RegionTerritories:
    gaz = gazetteer()
    departements = {d for d, info in gaz.departements.items() if info["region"] == region}
    departements |= set(region_departements(region))
    inside = Implantation.objects.filter(region=region).values_list("organisme", flat=True)
    outside = Implantation.objects.exclude(region=region).values_list("organisme", flat=True)
    return RegionTerritories(
        region=region,
        departements=frozenset(departements),
        epci=frozenset(c.epci for c in gaz.communes if c.departement in departements),
        epci_known=frozenset(c.epci for c in gaz.communes),
        landlords_inside=frozenset(inside.exclude(organisme__in=outside).distinct()),
    )


def region_figures(region: str, conventions: QuerySet[Convention]) -> dict[str, Any]:
    """Landlords, conventions and dwellings of the région (from the latest RPLS implantations)."""
    implanted = Implantation.objects.filter(region=region)
    dwellings = implanted.aggregate(n=Sum("logements"))["n"] or 0
    landlords = implanted.values("organisme").distinct()
    in_region = conventions.filter(organisme__in=landlords).exclude(statut=Statut.REMPLACEE)
    return {"logements": dwellings, "bailleurs": landlords.count(), "conventions": in_region.count()}


def consolidated_rows(
    publication: Publication, region: str, departements: list[str], f: Filtres
) -> list[dict[str, Any]]:
    """All landlords summed: the région and each of its départements."""
    rows = Resultat.objects.filter(publication=publication, organisme=None, generation=f.generation).filter(
        Q(maille="region", code_territoire=region) | Q(maille="departement", code_territoire__in=departements)
    )
    if f.periode:
        rows = rows.filter(periode=f.periode)
    if f.politique:
        rows = rows.filter(indicateur__in=policy_codes(f.politique))
    return list(rows.order_by("indicateur", "code", "maille", "code_territoire", "periode").values(*ROW_FIELDS))


def trend(
    publication: Publication, generation: int, code: str, maille: str, territoire: str, organisme: Organisme | None
) -> dict[str, float | None]:
    """Yearly values of one output code on one territory (years only, not the cumulated windows)."""
    found = Resultat.objects.filter(
        publication=publication,
        organisme=organisme,
        generation=generation,
        maille=maille,
        code_territoire=territoire,
        code=code,
    ).values_list("periode", "valeur")
    return {p: v for p, v in sorted(found) if "-" not in p}
