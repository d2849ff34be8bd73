"""Factories for the web tests: one landlord with its convention, and one account per role."""

import shutil
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils import timezone

from pilote_cus.comptes.models import Association, Collectivite, Implantation, Organisme, Role, Utilisateur
from pilote_cus.conventions.models import Convention, Objectif, Section, Signataire, Statut
from pilote_cus.tableaux.models import Publication, Resultat

MOT_DE_PASSE = "motdepasse-des-essais-2026"


def organisme(
    code: str = "OPH-A", nom: str = "Habitat du Rhône", departements: tuple[str, ...] = ("69",), region: str = "84"
) -> Organisme:
    o, _ = Organisme.objects.get_or_create(code=code, defaults={"nom": nom})
    for dep in departements:
        Implantation.objects.get_or_create(organisme=o, departement=dep, defaults={"region": region, "logements": 1000})
    return o


def utilisateur(username: str, role: str, **fields: object) -> Utilisateur:
    organismes = fields.pop("organismes", ())
    user = Utilisateur.objects.create_user(username=username, password=MOT_DE_PASSE, role=role, **fields)
    if organismes:
        user.organismes.set(organismes)  # type: ignore[arg-type]
    return user


def convention(o: Organisme, statut: str = Statut.ELABORATION, **fields: object) -> Convention:
    c = Convention.objects.create(
        organisme=o, titre=f"CUS {o.nom} 2019-2024", annee_debut=2019, annee_fin=2024, statut=statut, **fields
    )
    Objectif.objects.create(
        convention=c, code="PP-1", maille="departement", code_territoire="69", periode="2019-2024", valeur=3.0
    )
    Section.objects.create(convention=c, politique="patrimoniale", nature="orientations", texte="Rénover le parc.")
    return c


def signer(c: Convention) -> None:
    for nom in ("Préfète du Rhône", "Directrice générale"):
        Signataire.objects.create(
            convention=c, nom=nom, qualite="signataire", organisation="—", date_signature=timezone.localdate()
        )


@dataclass
class Monde:
    """Two landlords in two régions, their conventions, and one account per role and perimeter."""

    organisme: Organisme
    autre_organisme: Organisme
    convention: Convention
    autre_convention: Convention
    collectivite: Collectivite
    association: Association
    bailleur: Utilisateur
    autre_bailleur: Utilisateur
    etat: Utilisateur
    etat_region: Utilisateur
    autre_etat: Utilisateur
    collectivite_user: Utilisateur
    association_user: Utilisateur
    admin: Utilisateur

    def comptes(self) -> dict[str, Utilisateur]:
        return {
            "bailleur": self.bailleur,
            "autre_bailleur": self.autre_bailleur,
            "etat": self.etat,
            "etat_region": self.etat_region,
            "autre_etat": self.autre_etat,
            "collectivite": self.collectivite_user,
            "association": self.association_user,
            "administrateur": self.admin,
        }


def monde(statut: str = Statut.CONCERTATION) -> Monde:
    o = organisme("OPH-A", "Habitat du Rhône", ("69", "01"), "84")
    other = organisme("SA-B", "Logis de Garonne", ("31",), "76")
    c = convention(o, statut)
    other_c = convention(other, statut)
    coll = Collectivite.objects.create(nom="Métropole de Lyon", type_territoire="epci", code_territoire="200046977")
    c.collectivites.add(coll)
    assoc = Association.objects.create(nom="CNL du Rhône", organisme=o)
    return Monde(
        organisme=o,
        autre_organisme=other,
        convention=c,
        autre_convention=other_c,
        collectivite=coll,
        association=assoc,
        bailleur=utilisateur("bailleur", Role.BAILLEUR, organismes=[o]),
        autre_bailleur=utilisateur("autre-bailleur", Role.BAILLEUR, organismes=[other]),
        etat=utilisateur("ddt69", Role.ETAT, departement="69"),
        etat_region=utilisateur("dreal84", Role.ETAT, region="84"),
        autre_etat=utilisateur("ddt31", Role.ETAT, departement="31"),
        collectivite_user=utilisateur("metropole", Role.COLLECTIVITE, collectivite=coll),
        association_user=utilisateur("cnl", Role.ASSOCIATION, association=assoc),
        admin=utilisateur("admin", Role.ADMINISTRATEUR, is_staff=True, is_superuser=True),
    )


# --- a small real warehouse (tableaux) ---------------------------------------------------------------------


@dataclass(frozen=True)
class EntrepotDemo:
    """A synthetic landlord's six years imported through the real importers (built once per test run)."""

    dossier: Path
    code: str
    nom: str


@cache
def entrepot_demo(logements: int = 2000) -> EntrepotDemo:
    from pilote_cus.entrepot.entrepot import Warehouse
    from pilote_cus.evenements.import_evenements import import_events
    from pilote_cus.patrimoine.historique import generate_history
    from pilote_cus.patrimoine.import_rpls import import_rpls

    dossier = Path(tempfile.mkdtemp(prefix="cus-entrepot-demo-"))
    history = generate_history(dossier / "entrees", logements, 11)
    warehouse = Warehouse(dossier)
    for vintage, path in sorted(history.rpls_files.items()):
        import_rpls(path, warehouse, vintage=vintage)
    for name, path in history.event_files.items():
        import_events(warehouse, name, path)
    landlord = history.landlords[0]
    return EntrepotDemo(dossier, landlord.siret, landlord.raison_sociale)


def copie_entrepot(demo: EntrepotDemo, cible: Path) -> Path:
    """A private copy of the demo warehouse (imports in a test must not change the shared one)."""
    shutil.copytree(demo.dossier / "entrepot", cible / "entrepot", symlinks=True)
    return cible


PDF_MINIMAL = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def resultat(
    o: Organisme,
    code: str,
    maille: str,
    territoire: str,
    periode: str,
    numerateur: float | None,
    denominateur: float | None,
    valeur: float | None,
    generation: int = 2,
    unite: str = "%",
) -> Resultat:
    """A published result in the active publication (created if there is none)."""
    publication = Publication.objects.filter(active=True).first() or Publication.objects.create(
        catalogue="essais", instantanes="rpls-essais"
    )
    return Resultat.objects.create(
        publication=publication,
        organisme=o,
        generation=generation,
        code=code,
        indicateur=code.split("-")[0],
        libelle=code,
        maille=maille,
        code_territoire=territoire,
        periode=periode,
        numerateur=numerateur,
        denominateur=denominateur,
        valeur=valeur,
        unite=unite,
        certitude="verifie",
        instantanes="rpls-essais",
    )


def racine_statique() -> None:
    """WhiteNoise warns (an error in the tests) when the static root of the test workspace does not exist."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


def version_classement(o: Organisme, auteur: Utilisateur, statut: str = "partagee", numero: int = 1) -> object:
    """A computed version of the classement (two ensembles, one criterion), without reference data."""
    from pilote_cus.classement.models import VersionClassement

    critere = {"nom": "ascenseur", "libelle": "Ascenseur", "source": "bailleur"}

    def ensemble(ident: str, points: float, classe: str) -> dict[str, object]:
        detail = {
            "nom": "ascenseur",
            "libelle": "Ascenseur",
            "valeur": points,
            "points": points,
            "poids": 1.0,
            "points_ponderes": points,
            "explication": f"ascenseur : {'oui' if points else 'non'} → {int(points)} point",
        }
        return {
            "id": ident,
            "total": points,
            "classe_proposee": classe,
            "classe_retenue": classe,
            "motif_forcage": "",
            "criteres": [detail],
        }

    return VersionClassement.objects.create(
        organisme=o,
        numero=numero,
        grille_toml="",
        grille_version="essai.1",
        grille_nom="Grille d'essai",
        resultats={
            "criteres": [critere],
            "classes": [{"nom": "B", "libelle": "B", "score_min": 0}, {"nom": "A", "libelle": "A", "score_min": 1}],
            "ensembles": [ensemble("E1", 1.0, "A"), ensemble("E2", 0.0, "B")],
        },
        statut=statut,
        cree_par=auteur,
    )
