"""Business functions of the concertation: compute a version, share it, adopt it, comment it. Each change is
traced in the journal inside its transaction; every refusal is a French `ConcertationError`."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from ..audit.journal import record
from ..comptes.models import Organisme, Role, Utilisateur
from ..entrepot.entrepot import Warehouse
from .ensembles import EnsemblesError, ensembles_entrepot
from .fichiers import parse_ensembles
from .grille import Criterion, Grid, GrilleError, parse_grid
from .models import CommentaireClassement, StatutVersion, VersionClassement
from .references import ReferenceData, ReferenceError
from .score import ClassementError, Override, Scoring, criterion_score, entered_value, score

SOURCES_REFERENCE = ("bpe", "arrets", "qpv")
CHARGEURS = {"bpe": "load_bpe", "arrets": "load_stops", "qpv": "load_qpv"}
LIBELLES_SOURCES = {"bpe": "BPE", "arrets": "arrêts GTFS", "qpv": "QPV"}


class ConcertationError(ValueError):
    """A refused action, with a French message for the user."""


def lire_grille(texte: bytes) -> tuple[Grid, str]:
    try:
        toml = texte.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConcertationError("Grille : fichier illisible (encodage UTF-8 attendu).") from None
    try:
        return parse_grid(toml, "grille"), toml
    except GrilleError as error:
        raise ConcertationError(str(error)) from None


def lire_ensembles(texte: bytes) -> tuple[list[dict[str, Any]], list[Override]]:
    try:
        return parse_ensembles(texte, "Ensembles")
    except ClassementError as error:
        raise ConcertationError(str(error)) from None


def references_pour(grille: Grid) -> ReferenceData:
    configurees: dict[str, str] = getattr(settings, "CUS_REFERENTIELS_CLASSEMENT", {}) or {}
    references = ReferenceData()
    for source in SOURCES_REFERENCE:
        if not any(c.source == source for c in grille.criteres):
            continue
        chemin = configurees.get(source)
        if not chemin:
            raise ConcertationError(
                f"La grille utilise la source « {source} » ({LIBELLES_SOURCES[source]}), dont le fichier de "
                "référence n'est pas configuré sur ce serveur : contactez l'administrateur."
            )
        try:
            getattr(references, CHARGEURS[source])(Path(chemin))
        except ReferenceError as error:
            raise ConcertationError(f"Données de référence {LIBELLES_SOURCES[source]} : {error}") from None
    return references


DESCRIPTION = ("nom", "commune", "lat", "lon", "logements")  # what the map and the tables show of an ensemble


def resultats(grille: Grid, scoring: Scoring, lignes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    details: dict[str, list[dict[str, Any]]] = {}
    for d in scoring.details:
        details.setdefault(d.ensemble_id, []).append(
            {
                "nom": d.criterion,
                "libelle": d.label,
                "valeur": d.raw_value,
                "points": d.points,
                "poids": d.weight,
                "points_ponderes": d.weighted_points,
                "explication": d.explanation,
            }
        )
    decrits = {str(r.get("id")): r for r in lignes or []}
    return {
        "criteres": [{"nom": c.nom, "libelle": c.libelle, "source": c.source} for c in grille.criteres],
        "classes": [{"nom": c.nom, "libelle": c.libelle, "score_min": c.score_min} for c in grille.classes],
        "ensembles": [
            {
                "id": e.ensemble_id,
                **_description(decrits.get(e.ensemble_id, {})),
                "total": e.total,
                "classe_proposee": e.proposed_class,
                "classe_retenue": e.retained_class,
                "motif_forcage": e.override_reason or "",
                "criteres": details.get(e.ensemble_id, []),
            }
            for e in scoring.ensembles
        ],
    }


def _description(ligne: dict[str, Any]) -> dict[str, Any]:
    description: dict[str, Any] = {"nom": str(ligne.get("nom") or "")}
    if ligne.get("commune") not in (None, ""):
        description["commune"] = str(ligne["commune"])
    for cle, genre in (("lat", float), ("lon", float), ("logements", int)):
        try:
            description[cle] = genre(ligne[cle]) if ligne.get(cle) not in (None, "") else None
        except (TypeError, ValueError):
            description[cle] = None
    return description


def creer_version(
    user: Utilisateur, organisme: Organisme, grille_brute: bytes, ensembles_bruts: bytes
) -> VersionClassement:
    """Compute the classement of the ensembles of a CSV file as a new draft version; on error nothing is saved."""
    grille, toml = lire_grille(grille_brute)
    lignes, forcages = lire_ensembles(ensembles_bruts)
    return _calculer(user, organisme, grille, toml, lignes, forcages, {"type": "csv"})


def creer_version_entrepot(
    user: Utilisateur, organisme: Organisme, grille_brute: bytes, warehouse: Warehouse
) -> VersionClassement:
    """Compute the classement of the landlord's ensembles of the current RPLS snapshot (no forced class)."""
    grille, toml = lire_grille(grille_brute)
    try:
        lus = ensembles_entrepot(warehouse, organisme.code)
    except EnsemblesError as error:
        raise ConcertationError(str(error)) from None
    localises = {c.source for c in grille.criteres} & {"arrets", "qpv"}
    if localises and lus.sans_coordonnees:
        exemples = ", ".join(lus.sans_coordonnees[:5])
        raise ConcertationError(
            f"{len(lus.sans_coordonnees)} ensemble(s) de l'instantané RPLS {lus.snapshot_id} sans coordonnées "
            f"utilisables (WGS84 ou Lambert-93) : {exemples}. La grille en a besoin (source(s) "
            f"{', '.join(sorted(localises))}) : téléversez un fichier CSV des ensembles avec lat et lon."
        )
    origine = {"type": "entrepot", "instantane": lus.snapshot_id, "millesime": lus.vintage}
    return _calculer(user, organisme, grille, toml, lus.rows, [], origine)


def _calculer(
    user: Utilisateur,
    organisme: Organisme,
    grille: Grid,
    toml: str,
    lignes: list[dict[str, Any]],
    forcages: list[Override],
    origine: dict[str, Any],
) -> VersionClassement:
    references = references_pour(grille)
    try:
        scoring = score(lignes, grille, references, forcages)
    except ClassementError as error:
        raise ConcertationError(f"Calcul impossible : {error}") from None
    finally:
        references.connection.close()
    with transaction.atomic():
        dernier = VersionClassement.objects.filter(organisme=organisme).aggregate(n=Max("numero"))["n"] or 0
        version = VersionClassement.objects.create(
            organisme=organisme,
            numero=dernier + 1,
            grille_toml=toml,
            grille_version=grille.version,
            grille_nom=grille.nom,
            resultats=resultats(grille, scoring, lignes) | {"origine": origine},
            cree_par=user,
        )
        record(
            user,
            "classement.creer",
            version,
            organisme=organisme,
            apres={
                "numero": version.numero,
                "grille": grille.version,
                "ensembles": len(scoring.ensembles),
                "origine": origine,
            },
        )
    return version


def partager(user: Utilisateur, version: VersionClassement) -> None:
    with transaction.atomic():
        version = VersionClassement.objects.select_for_update().get(pk=version.pk)
        if version.statut != StatutVersion.PROJET:
            raise ConcertationError(
                f"Seul un projet peut être partagé (statut actuel : « {version.get_statut_display()} »)."
            )
        version.statut = StatutVersion.PARTAGEE
        version.save(update_fields=["statut"])
        record(user, "classement.partager", version, organisme=version.organisme, avant="projet", apres="partagee")


def adopter(user: Utilisateur, version: VersionClassement) -> None:
    """Adopt a shared version; the previously adopted version of the landlord is superseded (traced)."""
    with transaction.atomic():
        versions = VersionClassement.objects.select_for_update().filter(organisme=version.organisme_id)
        version = versions.get(pk=version.pk)
        if version.statut != StatutVersion.PARTAGEE:
            raise ConcertationError(
                "Seule une version partagée avec les associations peut être adoptée "
                f"(statut actuel : « {version.get_statut_display()} »)."
            )
        for ancienne in versions.filter(statut=StatutVersion.ADOPTEE):
            ancienne.statut = StatutVersion.REMPLACEE
            ancienne.remplacee_par = version
            ancienne.save(update_fields=["statut", "remplacee_par"])
            record(
                user,
                "classement.remplacer",
                ancienne,
                organisme=ancienne.organisme,
                avant="adoptee",
                apres={"statut": "remplacee", "par_version": version.numero},
            )
        version.statut = StatutVersion.ADOPTEE
        version.save(update_fields=["statut"])
        record(user, "classement.adopter", version, organisme=version.organisme, avant="partagee", apres="adoptee")


def commenter(
    user: Utilisateur,
    version: VersionClassement,
    ensemble: str,
    critere: str,
    texte: str,
    reponse_a: CommentaireClassement | None = None,
) -> CommentaireClassement:
    """An association comments while the version is shared; the landlord answers a comment."""
    if version.statut != StatutVersion.PARTAGEE:
        raise ConcertationError("Les commentaires ne sont ouverts que pendant le partage avec les associations.")
    if not texte.strip():
        raise ConcertationError("Le commentaire est vide.")
    if user.role == Role.BAILLEUR:
        if reponse_a is None:
            raise ConcertationError("Le bailleur répond aux commentaires des associations.")
        ensemble, critere = reponse_a.ensemble, reponse_a.critere
    elif user.role == Role.ASSOCIATION:
        reponse_a = None
    else:
        raise ConcertationError("Seuls les associations et le bailleur participent à la concertation.")
    if version.ensemble(ensemble) is None:
        raise ConcertationError(f"Ensemble « {ensemble} » absent de cette version.")
    if critere and critere not in {c["nom"] for c in version.criteres}:
        raise ConcertationError(f"Critère « {critere} » absent de la grille de cette version.")
    with transaction.atomic():
        commentaire = CommentaireClassement.objects.create(
            version=version, auteur=user, ensemble=ensemble, critere=critere, texte=texte.strip(), reponse_a=reponse_a
        )
        record(
            user,
            "classement.repondre" if reponse_a else "classement.commenter",
            commentaire,
            organisme=version.organisme,
            apres={"version": version.numero, "ensemble": ensemble, "critere": critere, "texte": commentaire.texte},
        )
    return commentaire


class SaisieError(ConcertationError):
    """Hand-entered values refused: criterion name → French message."""

    def __init__(self, erreurs: dict[str, str]) -> None:
        self.erreurs = erreurs
        super().__init__("Valeurs refusées : " + " ; ".join(erreurs.values()))


def _grille_de(version: VersionClassement) -> Grid | None:
    if not version.grille_toml:
        return None
    try:
        return parse_grid(version.grille_toml, f"grille de la version {version.numero}")
    except GrilleError as error:
        raise ConcertationError(str(error)) from None


def criteres_saisis(version: VersionClassement) -> list[Criterion]:
    """The criteria of the version's grid that are entered by hand."""
    grille = _grille_de(version)
    return [c for c in grille.criteres if c.source == "saisie"] if grille else []


def refus_modification(version: VersionClassement) -> str | None:
    if version.statut == StatutVersion.PROJET:
        return None
    return (
        f"La version {version.numero} est « {version.get_statut_display()} » : ses valeurs ne peuvent plus être "
        "modifiées. Calculez une nouvelle version pour changer les critères saisis."
    )


def saisir(
    user: Utilisateur, version: VersionClassement, ensemble_id: str, valeurs: dict[str, Any]
) -> VersionClassement:
    """Enter the hand-entered criteria of one ensemble of a draft version (criterion name → value, empty for
    « non renseigné »), then recompute its score and proposed class; a forced class is kept. Traced."""
    refus = refus_modification(version)
    if refus:
        raise ConcertationError(refus)
    if version.ensemble(ensemble_id) is None:
        raise ConcertationError(f"Ensemble « {ensemble_id} » absent de cette version.")
    grille = _grille_de(version)
    criteres = [c for c in grille.criteres if c.source == "saisie"] if grille else []
    if grille is None or not criteres:
        raise ConcertationError("La grille de cette version ne déclare aucun critère saisi à la main.")
    nouveaux: dict[str, dict[str, Any]] = {}
    erreurs: dict[str, str] = {}
    for critere in criteres:
        try:
            valeur, texte = entered_value(critere, valeurs.get(critere.nom))
        except ValueError as error:
            erreurs[critere.nom] = f"{critere.libelle} : {error}."
            continue
        d = criterion_score(ensemble_id, critere, valeur, texte)
        nouveaux[critere.nom] = {
            "nom": d.criterion,
            "libelle": d.label,
            "valeur": d.raw_value,
            "points": d.points,
            "poids": d.weight,
            "points_ponderes": d.weighted_points,
            "explication": d.explanation,
        }
    if erreurs:
        raise SaisieError(erreurs)
    with transaction.atomic():
        version = VersionClassement.objects.select_for_update().get(pk=version.pk)
        refus = refus_modification(version)
        if refus:
            raise ConcertationError(refus)
        contenu = version.resultats
        ensemble = next(e for e in contenu["ensembles"] if e["id"] == ensemble_id)
        avant = _etat_saisi(ensemble, nouveaux)
        ensemble["criteres"] = [nouveaux.get(c["nom"], c) for c in ensemble["criteres"]]
        ensemble["criteres"] += [
            c for nom, c in nouveaux.items() if nom not in {x["nom"] for x in ensemble["criteres"]}
        ]
        ensemble["total"] = round(sum(c["points_ponderes"] for c in ensemble["criteres"]), 6)
        ensemble["classe_proposee"] = grille.class_for(ensemble["total"])
        if not ensemble.get("motif_forcage"):
            ensemble["classe_retenue"] = ensemble["classe_proposee"]
        version.resultats = contenu
        version.save(update_fields=["resultats"])
        record(
            user,
            "classement.saisir",
            version,
            organisme=version.organisme,
            avant=avant,
            apres=_etat_saisi(ensemble, nouveaux),
        )
    return version


def _etat_saisi(ensemble: dict[str, Any], saisis: dict[str, Any]) -> dict[str, Any]:
    return {
        "ensemble": ensemble["id"],
        "valeurs": {c["nom"]: c["valeur"] for c in ensemble["criteres"] if c["nom"] in saisis},
        "total": ensemble["total"],
        "classe_proposee": ensemble["classe_proposee"],
        "classe_retenue": ensemble["classe_retenue"],
    }
