"""Import RPLS : chaque sorte de fichier défectueux est refusée avec un rapport précis, et rien n'est importé.

Chaque test de refus vérifie :
  (a) que ImportRejected est levée ;
  (b) que le code d'erreur attendu figure dans report.counts ;
  (c) quand cela a un sens, la ligne, la colonne et la valeur exactes de l'anomalie ;
  (d) que tous les messages du rapport sont en français et non vides ;
  (e) que l'entrepôt n'a pas bougé (historique, instantané courant, parquet, pas de répertoire .en-cours-*).

"""

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.geographie.referentiel import load_cog
from pilote_cus.imports.erreurs import Anomaly, ErrorReport, ImportRejected, catalogue
from pilote_cus.patrimoine.import_rpls import import_rpls
from pilote_cus.patrimoine.schema import rpls_schema

COG_DIR = Path("/work/shared/data/cog")
MILLESIME = 2024
SANS_VALEUR = object()  # « ne pas vérifier la valeur de l'anomalie »


# --- fabrication des fichiers ------------------------------------------------------------------------


def logement(i: int, **valeurs: str) -> dict[str, str]:
    """Une ligne de logement valide (open data), modifiable champ par champ."""
    ligne = {
        "IDENT_REP": f"L{i:05d}",
        "DEPCOM": "69123",
        "LIBCOM": "Lyon",
        "TYPECONST": "C",
        "NBPIECE": "3",
        "SURFHAB": "65,5",
        "CONSTRUCT": "1985",
        "MODE": "1",
        "BAIL": "03/2020",
        "QPV": "2",
        "DPEENERGIE": "D",
    }
    ligne.update(valeurs)
    return ligne


def colonnes_de(logements: list[dict[str, str]]) -> list[str]:
    colonnes: list[str] = []
    for ligne in logements:
        colonnes += [c for c in ligne if c not in colonnes]
    return colonnes


def lignes_csv(logements: list[dict[str, str]], colonnes: list[str] | None = None, sep: str = ";") -> list[str]:
    """En-tête puis une ligne par logement (sans fin de ligne)."""
    colonnes = colonnes if colonnes is not None else colonnes_de(logements or [logement(1)])
    return [sep.join(colonnes)] + [sep.join(ligne.get(c, "") for c in colonnes) for ligne in logements]


def ecrire_lignes(
    path: Path,
    lignes: list[str],
    *,
    encodage: str = "utf-8",
    bom: bool = False,
    fin_de_ligne_finale: bool = True,
) -> Path:
    texte = "\n".join(lignes) + ("\n" if fin_de_ligne_finale else "")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + texte.encode(encodage))
    return path


def ecrire(path: Path, logements: list[dict[str, str]], colonnes: list[str] | None = None, **options) -> Path:
    return ecrire_lignes(path, lignes_csv(logements, colonnes), **options)


def ligne_transmission(ligne: dict[str, str]) -> str:
    """Une ligne de données au format de transmission : 63 champs dans l'ordre des positions."""
    noms = rpls_schema().transmission_names()
    champs = [ligne.get(nom, "") for nom in noms]
    assert len(champs) == 63
    return ";".join(champs)


def entete_transmission(nombre: int | str, *, siret: str = "12345678901234", annee: str = "2024") -> str:
    return f"{annee};123;OPH du Rhône;1 rue de la République 69001 Lyon;{siret};{nombre}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- contrôles communs --------------------------------------------------------------------------------

_ANGLAIS = re.compile(
    r"\b(error|errors|expected|found|columns?|line|invalid|missing|unknown|value|file|"
    r"the|not|could|convert|unterminated|quote)\b",
    re.IGNORECASE,
)
_FRANCAIS = re.compile(
    r"[éèêàâçôûù«»]|\b(ligne|colonne|champs?|fichier|valeur|code|commune|en-tête|"
    r"logements?|millésime|nombre|année|date|texte|guillemets)\b",
    re.IGNORECASE,
)


def assert_message_francais(message: str) -> None:
    assert message and message.strip(), "message vide"
    assert not _ANGLAIS.search(message), f"message en anglais ? {message!r}"
    assert _FRANCAIS.search(message), f"message pas en français ? {message!r}"


def une_anomalie(
    report: ErrorReport,
    code: str,
    *,
    ligne: int | None = None,
    colonne: str | None = None,
    valeur: object = SANS_VALEUR,
) -> Anomaly:
    """L'unique anomalie `code` (à la ligne / colonne indiquées) ; vérifie sa valeur si demandée."""
    trouvees = [
        a
        for a in report.sorted_anomalies()
        if a.code == code and (ligne is None or a.line == ligne) and (colonne is None or a.column == colonne)
    ]
    assert len(trouvees) == 1, f"{code} ligne {ligne} colonne {colonne} : {report.sorted_anomalies()}"
    anomalie = trouvees[0]
    if valeur is not SANS_VALEUR:
        assert anomalie.value == valeur
    return anomalie


@dataclass
class Entrepot:
    """Un entrepôt qui contient déjà un instantané RPLS 2024 valide de 3 logements."""

    dd: Path
    entrees: Path
    instantane_id: str
    sha_logements: str

    @property
    def warehouse(self) -> Warehouse:
        return Warehouse(self.dd)

    def fichier(self, nom: str) -> Path:
        return self.entrees / nom

    def _etat(self) -> tuple:
        wh = Warehouse(self.dd)
        courant = wh.current("rpls", MILLESIME)
        return (
            [s.id for s in wh.history()],
            courant.id,
            sha256(courant.table("logements")),
            sorted(p.name for p in wh.snapshots_dir.iterdir()),
        )

    def rejeter(self, path: Path, code: str, **options) -> ErrorReport:
        """Importe `path`, exige un refus portant `code`, et vérifie que rien n'a été écrit."""
        avant = self._etat()
        with pytest.raises(ImportRejected) as refus:
            import_rpls(path, Warehouse(self.dd), **options)
        report = refus.value.report
        assert code in report.counts, dict(report.counts)
        assert report.counts[code] >= 1
        for anomalie in report.sorted_anomalies():
            assert anomalie.code in catalogue()
            assert_message_francais(anomalie.message)
        apres = self._etat()
        assert apres == avant
        wh = Warehouse(self.dd)
        assert wh.current("rpls", MILLESIME).id == self.instantane_id
        assert sha256(wh.current("rpls", MILLESIME).table("logements")) == self.sha_logements
        assert list((self.dd / "entrepot" / "instantanes").glob(".en-cours-*")) == []
        return report


@pytest.fixture
def entrepot(tmp_path: Path) -> Entrepot:
    dd = tmp_path / "donnees"
    entrees = tmp_path / "entrees"
    entrees.mkdir()
    valide = ecrire(entrees / "rpls_valide_2024.csv", [logement(1), logement(2), logement(3, DEPCOM="69259")])
    resultat = import_rpls(valide, Warehouse(dd))
    assert resultat.dwellings == 3
    courant = Warehouse(dd).current("rpls", MILLESIME)
    assert courant.id == resultat.snapshot.id
    return Entrepot(dd, entrees, courant.id, sha256(courant.table("logements")))


def rejeter_valeur(entrepot: Entrepot, colonne: str, valeur: str, code: str) -> Anomaly:
    """4 logements dont le 3e (ligne 4 du fichier) porte `colonne = valeur` : une seule anomalie attendue."""
    logements = [logement(1), logement(2), logement(3, **{colonne: valeur}), logement(4)]
    path = ecrire(entrepot.fichier("rpls_2024.csv"), logements)
    report = entrepot.rejeter(path, code)
    assert report.counts == {code: 1}, dict(report.counts)
    attendue = valeur.strip() or None
    return une_anomalie(report, code, ligne=4, colonne=colonne, valeur=attendue)


# --- le fichier lui-même ------------------------------------------------------------------------------


def test_fichier_vide(entrepot: Entrepot) -> None:
    path = entrepot.fichier("rpls_2024.csv")
    path.write_bytes(b"")
    report = entrepot.rejeter(path, "FICHIER_VIDE")
    assert report.counts == {"FICHIER_VIDE": 1}
    assert "vide" in une_anomalie(report, "FICHIER_VIDE").message


def test_fichier_binaire_avec_octets_nuls(entrepot: Entrepot) -> None:
    bruit = os.urandom(400)
    contenu = b"\x01" + bruit[:200] + b"\x00" + bruit[200:]
    path = entrepot.fichier("rpls_2024.csv")
    path.write_bytes(contenu)
    report = entrepot.rejeter(path, "FICHIER_BINAIRE")
    ligne_du_nul = contenu[: contenu.index(b"\x00")].count(b"\n") + 1
    assert une_anomalie(report, "FICHIER_BINAIRE").line == ligne_du_nul


def test_fichier_xlsx_signature_zip(entrepot: Entrepot) -> None:
    path = entrepot.fichier("rpls_2024.xlsx")
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" + b"\x08" * 64)
    report = entrepot.rejeter(path, "FICHIER_BINAIRE")
    anomalie = une_anomalie(report, "FICHIER_BINAIRE", ligne=1)
    assert "XLSX" in anomalie.message


@pytest.mark.parametrize(("separateur", "mot"), [(",", "« , »"), ("\t", "tabulation")], ids=["virgule", "tab"])
def test_separateur_incorrect(entrepot: Entrepot, separateur: str, mot: str) -> None:
    lignes = lignes_csv([logement(1), logement(2)], sep=separateur)
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes)
    report = entrepot.rejeter(path, "SEPARATEUR_INCORRECT")
    anomalie = une_anomalie(report, "SEPARATEUR_INCORRECT", ligne=1, valeur=lignes[0])
    assert mot in anomalie.message


def test_entete_non_reconnu(entrepot: Entrepot) -> None:
    path = ecrire_lignes(
        entrepot.fichier("rpls_2024.csv"), ["Lorem ipsum dolor sit amet", "consectetur adipiscing elit"]
    )
    report = entrepot.rejeter(path, "FORMAT_INCONNU")
    assert report.counts == {"FORMAT_INCONNU": 1}
    une_anomalie(report, "FORMAT_INCONNU", ligne=1, valeur="Lorem ipsum dolor sit amet")


# --- l'en-tête open data --------------------------------------------------------------------------------


@pytest.mark.parametrize("absente", ["SURFHAB", "MODE"])
def test_colonne_obligatoire_absente(entrepot: Entrepot, absente: str) -> None:
    logements = [logement(1), logement(2)]
    colonnes = [c for c in colonnes_de(logements) if c != absente]
    path = ecrire(entrepot.fichier("rpls_2024.csv"), logements, colonnes)
    report = entrepot.rejeter(path, "COLONNE_MANQUANTE")
    assert report.counts == {"COLONNE_MANQUANTE": 1}
    anomalie = une_anomalie(report, "COLONNE_MANQUANTE", ligne=1, colonne=absente)
    assert absente in anomalie.message


def test_colonne_en_double(entrepot: Entrepot) -> None:
    logements = [logement(1), logement(2)]
    colonnes = [*colonnes_de(logements), "NBPIECE"]
    path = ecrire(entrepot.fichier("rpls_2024.csv"), logements, colonnes)
    report = entrepot.rejeter(path, "COLONNE_EN_DOUBLE")
    assert report.counts == {"COLONNE_EN_DOUBLE": 1}
    assert "NBPIECE" in une_anomalie(report, "COLONNE_EN_DOUBLE", ligne=1, colonne="NBPIECE").message


def test_colonne_sans_nom(entrepot: Entrepot) -> None:
    logements = [logement(1), logement(2)]
    colonnes = colonnes_de(logements)
    colonnes.insert(3, "")  # 4e colonne sans nom, au milieu de l'en-tête
    path = ecrire(entrepot.fichier("rpls_2024.csv"), logements, colonnes)
    report = entrepot.rejeter(path, "COLONNE_SANS_NOM")
    assert report.counts == {"COLONNE_SANS_NOM": 1}
    assert "4" in une_anomalie(report, "COLONNE_SANS_NOM", ligne=1, colonne="n° 4").message


# --- valeurs des champs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code_commune", ["6912", "ABCDE", "20123", "96001", "690123"])
def test_code_commune_mal_forme(entrepot: Entrepot, code_commune: str) -> None:
    anomalie = rejeter_valeur(entrepot, "DEPCOM", code_commune, "COMMUNE_INVALIDE")
    assert code_commune in anomalie.message


def test_commune_absente_du_cog(entrepot: Entrepot) -> None:
    if not (COG_DIR / "communes_2026.csv").is_file():
        pytest.skip("COG 2026 absent de /work/shared/data/cog")
    load_cog(entrepot.warehouse, COG_DIR, 2026)
    logements = [logement(1), logement(2, DEPCOM="69259"), logement(3, DEPCOM="69999"), logement(4)]
    path = ecrire(entrepot.fichier("rpls_2024.csv"), logements)
    report = entrepot.rejeter(path, "COMMUNE_INCONNUE")
    assert report.counts == {"COMMUNE_INCONNUE": 1}
    anomalie = une_anomalie(report, "COMMUNE_INCONNUE", ligne=4, colonne="DEPCOM", valeur="69999")
    assert "COG" in anomalie.message


@pytest.mark.parametrize(
    ("colonne", "valeur", "code"),
    [
        ("NBPIECE", "trois", "ENTIER_INVALIDE"),
        ("SURFHAB", "65m2", "NOMBRE_INVALIDE"),
        ("SURFHAB", "soixante", "NOMBRE_INVALIDE"),
    ],
)
def test_lettres_dans_un_champ_numerique(entrepot: Entrepot, colonne: str, valeur: str, code: str) -> None:
    rejeter_valeur(entrepot, colonne, valeur, code)


@pytest.mark.parametrize(
    "valeur",
    [
        "3.5",
        "3.0",
        "1e1",
    ],
)
def test_entier_avec_decimale_ou_exposant(entrepot: Entrepot, valeur: str) -> None:
    rejeter_valeur(entrepot, "NBPIECE", valeur, "ENTIER_INVALIDE")


def test_surface_negative(entrepot: Entrepot) -> None:
    anomalie = rejeter_valeur(entrepot, "SURFHAB", "-40", "HORS_BORNES")
    assert "7" in anomalie.message and "400" in anomalie.message


def test_surface_absurde(entrepot: Entrepot) -> None:
    rejeter_valeur(entrepot, "SURFHAB", "12000", "HORS_BORNES")


@pytest.mark.parametrize("pieces", ["0", "12"])
def test_nombre_de_pieces_hors_bornes(entrepot: Entrepot, pieces: str) -> None:
    anomalie = rejeter_valeur(entrepot, "NBPIECE", pieces, "HORS_BORNES")
    assert "entre 1 et 9" in anomalie.message


@pytest.mark.parametrize(("colonne", "valeur"), [("TYPECONST", "X"), ("MODE", "7"), ("DPEENERGIE", "H")])
def test_code_inconnu(entrepot: Entrepot, colonne: str, valeur: str) -> None:
    anomalie = rejeter_valeur(entrepot, colonne, valeur, "CODE_INCONNU")
    assert "codes admis" in anomalie.message


@pytest.mark.parametrize("annee", ["19X5", "2031", "1599", "85"])
def test_annee_invalide(entrepot: Entrepot, annee: str) -> None:
    anomalie = rejeter_valeur(entrepot, "CONSTRUCT", annee, "ANNEE_INVALIDE")
    assert "2024" in anomalie.message


@pytest.mark.parametrize("date", ["13/2020", "2020-03", "05/2031", "02/2024", "00/2020"])
def test_date_mois_annee_invalide(entrepot: Entrepot, date: str) -> None:
    anomalie = rejeter_valeur(entrepot, "BAIL", date, "DATE_INVALIDE")
    assert "mm/aaaa" in anomalie.message


@pytest.mark.parametrize(("colonne", "valeur"), [("IDENT_REP", "ABCDEFGHIJK"), ("CODEPOSTAL", "690012")])
def test_texte_trop_long(entrepot: Entrepot, colonne: str, valeur: str) -> None:
    anomalie = rejeter_valeur(entrepot, colonne, valeur, "TEXTE_TROP_LONG")
    assert f"{len(valeur)} caractères" in anomalie.message


def test_identifiant_en_double(entrepot: Entrepot) -> None:
    logements = [logement(1), logement(2), logement(3), logement(2, LIBCOM="Lyon 2e")]
    path = ecrire(entrepot.fichier("rpls_2024.csv"), logements)
    report = entrepot.rejeter(path, "IDENTIFIANT_EN_DOUBLE")
    assert report.counts == {"IDENTIFIANT_EN_DOUBLE": 1}
    anomalie = une_anomalie(report, "IDENTIFIANT_EN_DOUBLE", ligne=5, colonne="IDENT_REP", valeur="L00002")
    assert "ligne 3" in anomalie.message


@pytest.mark.parametrize(("colonne", "valeur"), [("DEPCOM", ""), ("DEPCOM", "   "), ("NBPIECE", "")])
def test_valeur_obligatoire_manquante(entrepot: Entrepot, colonne: str, valeur: str) -> None:
    anomalie = rejeter_valeur(entrepot, colonne, valeur, "VALEUR_MANQUANTE")
    assert colonne in anomalie.message


@pytest.mark.parametrize("qpv", ["QP12345", "3", "QX069001", "qp069001"])
def test_code_qpv_invalide(entrepot: Entrepot, qpv: str) -> None:
    rejeter_valeur(entrepot, "QPV", qpv, "QPV_INVALIDE")


def test_code_qpv_qp_suivi_de_sept_caracteres(entrepot: Entrepot) -> None:
    rejeter_valeur(entrepot, "QPV", "QP0690011", "QPV_INVALIDE")


def test_codes_qpv_valides_acceptes(tmp_path: Path) -> None:
    dd = tmp_path / "donnees"
    logements = [
        logement(1, QPV="1"),
        logement(2, QPV="2"),
        logement(3, QPV="QP069001"),
        logement(4, QPV="QN06901M"),
    ]
    import_rpls(ecrire(tmp_path / "rpls_2024.csv", logements), Warehouse(dd))
    lus = _lire(
        Warehouse(dd).current("rpls", MILLESIME).table("logements"),
        "SELECT qpv, en_qpv FROM {t} ORDER BY ident_rep",
    )
    assert lus == [("1", True), ("2", False), ("QP069001", True), ("QN06901M", True)]


# --- structure des lignes -------------------------------------------------------------------------------


def test_derniere_ligne_tronquee_sans_fin_de_ligne(entrepot: Entrepot) -> None:
    lignes = lignes_csv([logement(1), logement(2), logement(3)])
    lignes.append("L00004;69123;Lyon;C")
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes, fin_de_ligne_finale=False)
    report = entrepot.rejeter(path, "NOMBRE_CHAMPS")
    assert report.counts == {"NOMBRE_CHAMPS": 1}
    anomalie = une_anomalie(report, "NOMBRE_CHAMPS", ligne=5, valeur="L00004;69123;Lyon;C")
    assert "4 champ(s) au lieu de 11" in anomalie.message


def test_ligne_avec_trop_de_champs(entrepot: Entrepot) -> None:
    lignes = lignes_csv([logement(1), logement(2), logement(3)])
    lignes[2] += ";en trop"
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes)
    report = entrepot.rejeter(path, "NOMBRE_CHAMPS")
    assert report.counts == {"NOMBRE_CHAMPS": 1}
    anomalie = une_anomalie(report, "NOMBRE_CHAMPS", ligne=3, valeur=lignes[2])
    assert "12 champ(s) au lieu de 11" in anomalie.message


def test_guillemet_non_referme(entrepot: Entrepot) -> None:
    lignes = lignes_csv([logement(1), logement(2), logement(3, LIBCOM='"Lyon'), logement(4)])
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes)
    report = entrepot.rejeter(path, "GUILLEMETS")
    anomalie = une_anomalie(report, "GUILLEMETS", ligne=4)
    assert anomalie.value is not None and anomalie.value.startswith(lignes[3])


def test_guillemet_au_milieu_d_un_champ_est_conserve(entrepot: Entrepot) -> None:
    """Un guillemet isolé au milieu d'un champ non entouré de guillemets fait partie de la valeur."""
    lignes = lignes_csv([logement(1), logement(2), logement(3, LIBCOM='Ly"on'), logement(4)])
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes)
    result = import_rpls(path, entrepot.warehouse)
    valeur = duckdb.sql(
        f"SELECT libcom FROM '{result.snapshot.table('logements')}' WHERE ident_rep = 'L00003'"
    ).fetchone()
    assert valeur == ('Ly"on',)


def test_plusieurs_erreurs_et_lignes_cassees_numerotation(entrepot: Entrepot) -> None:
    lignes = lignes_csv(
        [
            logement(1),  # ligne 2
            logement(2),  # ligne 4 (la ligne 3 est cassée)
            logement(3, NBPIECE="trois"),  # ligne 5
            logement(4, DEPCOM="6912"),  # ligne 6
            logement(5, SURFHAB="-3"),  # ligne 8 (la ligne 7 est cassée)
            logement(6, MODE="7", BAIL="13/2020"),  # ligne 9
            logement(2),  # ligne 10 : doublon de la ligne 4
        ]
    )
    lignes.insert(2, "L00090;69123")  # ligne 3 : 2 champs
    lignes.insert(6, "L00091;69123;Lyon")  # ligne 7 : 3 champs
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes)
    report = entrepot.rejeter(path, "NOMBRE_CHAMPS")
    trouve = [(a.line, a.code, a.column) for a in report.sorted_anomalies()]
    assert trouve == [
        (3, "NOMBRE_CHAMPS", None),
        (5, "ENTIER_INVALIDE", "NBPIECE"),
        (6, "COMMUNE_INVALIDE", "DEPCOM"),
        (7, "NOMBRE_CHAMPS", None),
        (8, "HORS_BORNES", "SURFHAB"),
        (9, "DATE_INVALIDE", "BAIL"),
        (9, "CODE_INCONNU", "MODE"),
        (10, "IDENTIFIANT_EN_DOUBLE", "IDENT_REP"),
    ]
    assert report.total == 8
    assert "ligne 4" in une_anomalie(report, "IDENTIFIANT_EN_DOUBLE").message


def test_ligne_vide_ne_decale_pas_la_numerotation(entrepot: Entrepot) -> None:
    lignes = lignes_csv([logement(1), logement(2), logement(3), logement(4, NBPIECE="x")])
    lignes.insert(2, "")  # ligne 3 vide ; le logement 4 est en ligne 6
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes)
    report = entrepot.rejeter(path, "ENTIER_INVALIDE")
    une_anomalie(report, "ENTIER_INVALIDE", ligne=6, colonne="NBPIECE", valeur="x")


def test_champ_sur_deux_lignes_ne_decale_pas_la_numerotation(entrepot: Entrepot) -> None:
    lignes = lignes_csv(
        [logement(1), logement(2, LIBCOM='"Lyon\n2e arrondissement"'), logement(3), logement(4, NBPIECE="x")]
    )
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes)  # logement 4 : ligne 6 du fichier
    report = entrepot.rejeter(path, "ENTIER_INVALIDE")
    une_anomalie(report, "ENTIER_INVALIDE", ligne=6, colonne="NBPIECE", valeur="x")


# --- encodage -------------------------------------------------------------------------------------------


def _fichier_mixte(entrepot: Entrepot, debut: str, fin: str) -> Path:
    """Lignes 1 à 3 encodées en `debut` (un nom accentué en ligne 3), ligne 4 encodée en `fin`."""
    lignes = lignes_csv(
        [
            logement(1),
            logement(2, DEPCOM="69259", LIBCOM="Vénissieux"),
            logement(3, DEPCOM="11203", LIBCOM="Lézignan-Corbières"),
        ]
    )
    contenu = ("\n".join(lignes[:3]) + "\n").encode(debut) + (lignes[3] + "\n").encode(fin)
    path = entrepot.fichier("rpls_2024.csv")
    path.write_bytes(contenu)
    return path


@pytest.mark.parametrize(
    ("debut", "fin", "attendu"),
    [
        ("utf-8", "latin-1", ("UTF-8 (ligne 3)", "Latin-1 (ligne 4)")),
        ("latin-1", "utf-8", ("Latin-1 (ligne 3)", "UTF-8 (ligne 4)")),
    ],
)
def test_encodages_melanges(entrepot: Entrepot, debut: str, fin: str, attendu: tuple[str, str]) -> None:
    report = entrepot.rejeter(_fichier_mixte(entrepot, debut, fin), "ENCODAGE_MIXTE")
    assert report.counts == {"ENCODAGE_MIXTE": 1}
    message = une_anomalie(report, "ENCODAGE_MIXTE", ligne=4).message
    assert all(partie in message for partie in attendu)


def test_encodages_melanges_apostrophe_typographique(entrepot: Entrepot) -> None:
    lignes = lignes_csv(
        [
            logement(1, DEPCOM="11203", LIBCOM="Lézignan-Corbières"),
            logement(2, DEPCOM="38193", LIBCOM="L’Isle-d’Abeau"),
        ]
    )
    contenu = ("\n".join(lignes[:2]) + "\n").encode("latin-1") + (lignes[2] + "\n").encode("utf-8")
    path = entrepot.fichier("rpls_2024.csv")
    path.write_bytes(contenu)
    report = entrepot.rejeter(path, "ENCODAGE_MIXTE")
    une_anomalie(report, "ENCODAGE_MIXTE", ligne=3)


# --- contenu et millésime ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fin_de_ligne", [True, False], ids=["avec-fin-de-ligne", "sans-fin-de-ligne"])
def test_entete_seul_aucun_logement(entrepot: Entrepot, fin_de_ligne: bool) -> None:
    path = ecrire(entrepot.fichier("rpls_2024.csv"), [], colonnes_de([logement(1)]), fin_de_ligne_finale=fin_de_ligne)
    report = entrepot.rejeter(path, "AUCUN_LOGEMENT")
    assert report.counts == {"AUCUN_LOGEMENT": 1}


def test_millesime_inconnu(entrepot: Entrepot) -> None:
    path = ecrire(entrepot.fichier("rpls_lyon.csv"), [logement(1), logement(2)])
    report = entrepot.rejeter(path, "MILLESIME_INCONNU")
    assert report.counts == {"MILLESIME_INCONNU": 1}
    assert "--millesime" in une_anomalie(report, "MILLESIME_INCONNU").message


# --- fichier de transmission ------------------------------------------------------------------------------


def test_transmission_nombre_d_enregistrements_incoherent(entrepot: Entrepot) -> None:
    lignes = [entete_transmission(5)] + [ligne_transmission(logement(i)) for i in (1, 2, 3)]
    path = ecrire_lignes(entrepot.fichier("transmission.csv"), lignes)
    report = entrepot.rejeter(path, "NOMBRE_ENREGISTREMENTS")
    assert report.counts == {"NOMBRE_ENREGISTREMENTS": 1}
    anomalie = une_anomalie(report, "NOMBRE_ENREGISTREMENTS", ligne=1, colonne="nombre_enregistrements", valeur="5")
    assert "5" in anomalie.message and "3" in anomalie.message


@pytest.mark.parametrize("siret", ["1234567890", "1234567890123A", "123456789012345"])
def test_transmission_siret_invalide(entrepot: Entrepot, siret: str) -> None:
    lignes = [entete_transmission(3, siret=siret)] + [ligne_transmission(logement(i)) for i in (1, 2, 3)]
    path = ecrire_lignes(entrepot.fichier("transmission.csv"), lignes)
    report = entrepot.rejeter(path, "ENTETE_TRANSMISSION")
    assert report.counts == {"ENTETE_TRANSMISSION": 1}
    anomalie = une_anomalie(report, "ENTETE_TRANSMISSION", ligne=1, colonne="siret", valeur=siret)
    assert "SIRET" in anomalie.message


def test_transmission_erreurs_de_valeurs_et_ligne_tronquee(entrepot: Entrepot) -> None:
    lignes = [
        entete_transmission(4),
        ligne_transmission(logement(1)),
        "L00002;69123;Lyon",
        ligne_transmission(logement(3, SURFHAB="0")),
        ligne_transmission(logement(4, QPV="QP12")),
    ]
    path = ecrire_lignes(entrepot.fichier("transmission.csv"), lignes)
    report = entrepot.rejeter(path, "NOMBRE_CHAMPS")
    assert [(a.line, a.code, a.column) for a in report.sorted_anomalies()] == [
        (3, "NOMBRE_CHAMPS", None),
        (4, "HORS_BORNES", "SURFHAB"),
        (5, "QPV_INVALIDE", "QPV"),
    ]
    assert "3 champ(s) au lieu de 63" in une_anomalie(report, "NOMBRE_CHAMPS").message


# --- imports valides -----------------------------------------------------------------------------------


def _lire(path: Path, sql: str) -> list[tuple]:
    return duckdb.sql(sql.format(t=f"read_parquet('{path}')")).fetchall()


@pytest.mark.parametrize(
    ("encodage", "bom", "attendu"),
    [
        ("latin-1", False, "latin-1"),
        ("utf-8", True, "utf-8 avec BOM"),
        ("utf-8", False, "utf-8"),
    ],
    ids=["latin1", "utf8-bom", "utf8"],
)
def test_fichier_valide_accents_conserves(tmp_path: Path, encodage: str, bom: bool, attendu: str) -> None:
    dd = tmp_path / "donnees"
    logements = [
        logement(1, DEPCOM="69259", LIBCOM="Vénissieux"),
        logement(2, DEPCOM="11203", LIBCOM="Lézignan-Corbières"),
        logement(3, LIBCOM="Lyon 1er – Hôtel-de-Ville" if encodage != "latin-1" else "Lyon Hôtel"),
    ]
    path = ecrire(tmp_path / "rpls_2024.csv", logements, encodage=encodage, bom=bom)
    resultat = import_rpls(path, Warehouse(dd))
    assert resultat.dwellings == 3
    instantane = Warehouse(dd).current("rpls", MILLESIME)
    assert instantane.provenance["encodage"] == attendu
    lus = _lire(instantane.table("logements"), "SELECT ident_rep, libcom FROM {t} ORDER BY ident_rep")
    assert lus == [(f"L{i:05d}", lg["LIBCOM"]) for i, lg in enumerate(logements, start=1)]


def test_colonnes_inconnues_conservees_en_minuscules(tmp_path: Path) -> None:
    dd = tmp_path / "donnees"
    logements = [
        logement(1, Commentaire_Bailleur="à revoir", ORGANISME_ID="X1"),
        logement(2, Commentaire_Bailleur="", ORGANISME_ID="X2"),
    ]
    path = ecrire(tmp_path / "rpls_2024.csv", logements)
    import_rpls(path, Warehouse(dd))
    instantane = Warehouse(dd).current("rpls", MILLESIME)
    lus = _lire(
        instantane.table("logements"),
        "SELECT ident_rep, commentaire_bailleur, x_organisme_id FROM {t} ORDER BY ident_rep",
    )
    assert lus == [("L00001", "à revoir", "X1"), ("L00002", None, "X2")]
    assert instantane.provenance["colonnes_inconnues_conservees"] == ["COMMENTAIRE_BAILLEUR", "ORGANISME_ID"]


def test_transmission_valide(tmp_path: Path) -> None:
    dd = tmp_path / "donnees"
    lignes = [entete_transmission(3)] + [ligne_transmission(logement(i)) for i in (1, 2, 3)]
    path = ecrire_lignes(tmp_path / "transmission.csv", lignes)
    resultat = import_rpls(path, Warehouse(dd))
    assert resultat.dwellings == 3
    assert Warehouse(dd).current("rpls", MILLESIME).provenance["format"] == "transmission"


# --- rapport CSV ---------------------------------------------------------------------------------------


def test_rapport_csv(entrepot: Entrepot, tmp_path: Path) -> None:
    lignes = lignes_csv([logement(1), logement(2, NBPIECE="trois"), logement(3, DEPCOM="6912; bis")])
    lignes[3] = lignes[3].replace("6912; bis", '"6912; bis"')
    path = ecrire_lignes(entrepot.fichier("rpls_2024.csv"), lignes)
    report = entrepot.rejeter(path, "ENTIER_INVALIDE")
    sortie = report.write_csv(tmp_path / "rapports" / "erreurs.csv")
    brut = sortie.read_bytes()
    assert brut.startswith(b"\xef\xbb\xbf")
    with sortie.open(encoding="utf-8-sig", newline="") as handle:
        lu = list(csv.reader(handle, delimiter=";"))
    assert lu[0] == ["fichier", "ligne", "colonne", "valeur", "code", "message"]
    assert [r[:5] for r in lu[1:]] == [
        ["rpls_2024.csv", "3", "NBPIECE", "trois", "ENTIER_INVALIDE"],
        ["rpls_2024.csv", "4", "DEPCOM", "6912; bis", "COMMUNE_INVALIDE"],
    ]
    for r in lu[1:]:
        assert_message_francais(r[5])
    assert b"\xc2\xab" in brut  # « encodé en UTF-8
