"""The demo's application data: the synthetic landlord's conventions and one account per role.

Passwords are drawn at random on every run and printed once by `cus demo`; nothing is committed.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from ..comptes.models import Association, Collectivite, Implantation, Organisme, Role, Utilisateur
from ..conventions.cycle import echeance
from ..conventions.etat_des_lieux import resume
from ..conventions.models import Convention, Objectif, Politique, Section, Signataire, Statut
from ..entrepot.entrepot import Warehouse
from ..geographie.referentiel import gazetteer
from ..indicateurs.objectifs import Objective

TEXTES = {
    (Politique.PATRIMONIALE, "orientations"): "Résorber les logements des étiquettes E, F et G avant 2028 ; "
    "poursuivre une production de logements sociaux équilibrée entre PLAI, PLUS et PLS (texte de démonstration).",
    (Politique.PATRIMONIALE, "programme"): "Réhabilitation thermique de 150 logements par an ; vente de 1 % du "
    "parc par an aux locataires (texte de démonstration).",
    (Politique.SOCIALE, "orientations"): "Accueillir les ménages prioritaires et les ménages du premier quartile "
    "hors QPV ; prévenir les impayés (texte de démonstration).",
    (Politique.SOCIALE, "programme"): "Commission d'attribution mensuelle ; plan d'apurement proposé dès le 2e "
    "mois d'impayé (texte de démonstration).",
    (Politique.QUALITE, "orientations"): "Traiter les réclamations sous 30 jours ; moins de 8 pannes par ascenseur "
    "et par an (texte de démonstration).",
    (Politique.QUALITE, "programme"): "Astreinte 24 h/24 ; enquête de satisfaction triennale (texte de démonstration).",
}


@dataclass(frozen=True)
class Compte:
    role: str
    identifiant: str
    mot_de_passe: str
    perimetre: str


def _account(username: str, role: str, perimeter: str, **fields: object) -> Compte:
    password = secrets.token_urlsafe(12)
    organismes = fields.pop("organismes", ())
    user, _ = Utilisateur.objects.update_or_create(username=username, defaults={"role": role, **fields})
    user.set_password(password)
    user.save()
    if organismes:
        user.organismes.set(organismes)  # type: ignore[arg-type]
    return Compte(Role(role).label, username, password, perimeter)


def _convention(
    summary: dict,
    organisme: Organisme,
    title: str,
    first: int,
    last: int,
    statut: str,
    objectives: Sequence[Objective],
    collectivite: Collectivite,
) -> Convention:
    Convention.objects.filter(organisme=organisme, titre=title).delete()
    due = echeance(statut, date.today())
    convention = Convention.objects.create(
        organisme=organisme,
        generation=2,
        titre=title,
        annee_debut=first,
        annee_fin=last,
        statut=statut,
        echeance=due[0] if due else None,
    )
    convention.collectivites.add(collectivite)
    for (politique, nature), texte in TEXTES.items():
        Section.objects.create(convention=convention, politique=politique, nature=nature, texte=texte)
    Objectif.objects.bulk_create(
        Objectif(
            convention=convention,
            code=o.code,
            maille=o.maille,
            code_territoire=o.code_territoire,
            periode=o.periode,
            valeur=o.objectif,
        )
        for o in objectives
    )
    return convention


@transaction.atomic
def peupler(
    warehouse: Warehouse, organisme_code: str, nom: str, objectives: Sequence[Objective], first_year: int, years: int
) -> list[Compte]:
    """Two conventions (the signed one being followed, the next one in elaboration) and the accounts."""
    summary = resume(warehouse, organisme_code)
    organisme, _ = Organisme.objects.update_or_create(code=organisme_code, defaults={"nom": nom})
    main = Implantation.objects.filter(organisme=organisme).order_by("-logements").first()
    departement = main.departement if main else "69"
    region = main.region if main else gazetteer().departements.get(departement, {}).get("region", "84")
    dep_name = gazetteer().departements.get(departement, {}).get("nom", departement)
    collectivite, _ = Collectivite.objects.get_or_create(
        type_territoire="departement", code_territoire=departement, defaults={"nom": f"Département {dep_name}"}
    )
    association, _ = Association.objects.get_or_create(nom=f"Association des locataires de {nom}", organisme=organisme)
    last = first_year + years - 1
    signed = _convention(
        summary, organisme, f"CUS {nom} {first_year}-{last}", first_year, last, Statut.SUIVI, objectives, collectivite
    )
    for person, quality, body in (
        ("Préfet de département (démonstration)", "Représentant de l'État", "Préfecture"),
        ("Directrice générale (démonstration)", "Représentante de l'organisme", nom),
        (f"Président du département {dep_name} (démonstration)", "Collectivité de rattachement", collectivite.nom),
    ):
        Signataire.objects.create(
            convention=signed, nom=person, qualite=quality, organisation=body, date_signature=date(first_year, 6, 30)
        )
    _convention(
        summary, organisme, f"CUS {nom} {last + 1}-{last + 6}", last + 1, last + 6, Statut.ELABORATION, [], collectivite
    )
    return [
        _account("bailleur", Role.BAILLEUR, nom, organismes=[organisme], first_name="Claire", last_name="Bailleur"),
        _account(
            "etat-ddt",
            Role.ETAT,
            f"département {departement}",
            departement=departement,
            region="",
            first_name="Denis",
            last_name="DDT",
        ),
        _account(
            "etat-dreal",
            Role.ETAT,
            f"région {region}",
            region=region,
            departement="",
            first_name="Rachida",
            last_name="DREAL",
        ),
        _account(
            "collectivite",
            Role.COLLECTIVITE,
            collectivite.nom,
            collectivite=collectivite,
            first_name="Colette",
            last_name="Département",
        ),
        _account(
            "association",
            Role.ASSOCIATION,
            association.nom,
            association=association,
            first_name="Anatole",
            last_name="Locataire",
        ),
        _account(
            "admin",
            Role.ADMINISTRATEUR,
            "tout",
            is_staff=True,
            is_superuser=True,
            first_name="Ada",
            last_name="Administratrice",
        ),
    ]
