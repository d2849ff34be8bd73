"""Business functions of the concertation: compute a version, share it, adopt it, comment it. Each change is
traced in the journal inside its transaction; every refusal is a French `ConcertationError`."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from ..audit.journal import record
from ..comptes.models import Organisme, Role, Utilisateur
from .fichiers import parse_ensembles
from .grille import Grid, GrilleError, parse_grid
from .models import CommentaireClassement, StatutVersion, VersionClassement
from .references import ReferenceData, ReferenceError
from .score import ClassementError, Override, Scoring, score

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


def resultats(grille: Grid, scoring: Scoring) -> dict[str, Any]:
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
    return {
        "criteres": [{"nom": c.nom, "libelle": c.libelle, "source": c.source} for c in grille.criteres],
        "classes": [{"nom": c.nom, "libelle": c.libelle, "score_min": c.score_min} for c in grille.classes],
        "ensembles": [
            {
                "id": e.ensemble_id,
                "total": e.total,
                "classe_proposee": e.proposed_class,
                "classe_retenue": e.retained_class,
                "motif_forcage": e.override_reason or "",
                "criteres": details.get(e.ensemble_id, []),
            }
            for e in scoring.ensembles
        ],
    }


def creer_version(
    user: Utilisateur, organisme: Organisme, grille_brute: bytes, ensembles_bruts: bytes
) -> VersionClassement:
    """Compute the classement and save it as a new draft version; on any error nothing is saved."""
    grille, toml = lire_grille(grille_brute)
    lignes, forcages = lire_ensembles(ensembles_bruts)
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
            resultats=resultats(grille, scoring),
            cree_par=user,
        )
        record(
            user,
            "classement.creer",
            version,
            organisme=organisme,
            apres={"numero": version.numero, "grille": grille.version, "ensembles": len(scoring.ensembles)},
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
