"""Import des fichiers d'événements (CSV et XLSX) : valeurs typées, remplacement par année, refus précis.

Chaque test de refus vérifie la ligne, la colonne, la valeur et le code de l'anomalie, que les messages
sont en français et que l'entrepôt n'a pas bougé (aucun nouvel instantané, aucun dossier temporaire).
"""

import csv
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from pilote_cus import cli
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.evenements import controles
from pilote_cus.evenements.documentation import event_format_doc, example_lines
from pilote_cus.evenements.import_evenements import EventImportResult, import_events
from pilote_cus.evenements.schema import event_schemas
from pilote_cus.evenements.stockage import event_view_sql
from pilote_cus.geographie.referentiel import load_cog
from pilote_cus.imports.erreurs import Anomaly, ErrorReport, ImportRejected, catalogue
from pilote_cus.verification import verify

FIXTURES = Path(__file__).parent / "fixtures" / "evenements"
DOCS = Path(__file__).parents[1] / "docs" / "formats"


# --- fabrication des fichiers --------------------------------------------------------------------------


def exemple(nom: str, **valeurs: str) -> dict[str, str]:
    """La ligne d'exemple de la documentation du format `nom` (valide), modifiable champ par champ."""
    entete, ligne = example_lines(event_schemas()[nom])
    enregistrement = dict(zip(entete.split(";"), ligne.split(";"), strict=True))
    enregistrement.update(valeurs)
    return enregistrement


def attribution(i: int, **valeurs: str) -> dict[str, str]:
    return exemple("attributions", id_attribution=f"ATT-{i:04d}", **valeurs)


def ecrire(
    path: Path,
    lignes: list[dict[str, str]],
    colonnes: list[str] | None = None,
    *,
    sep: str = ";",
    encodage: str = "utf-8",
) -> Path:
    colonnes = colonnes if colonnes is not None else list(lignes[0])
    texte = "\n".join([sep.join(colonnes)] + [sep.join(ligne.get(c, "") for c in colonnes) for ligne in lignes])
    path.write_bytes((texte + "\n").encode(encodage))
    return path


def classeur(path: Path, feuilles: dict[str, list[list[object]]]) -> Path:
    livre = Workbook()
    livre.remove(livre.active)
    for titre, lignes in feuilles.items():
        feuille = livre.create_sheet(titre)
        for ligne in lignes:
            feuille.append(ligne)
    livre.save(path)
    return path


def table(resultat: EventImportResult, nom: str, cle: str) -> dict[str, dict[str, object]]:
    """Les lignes stockées, par valeur de la colonne `cle`."""
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{resultat.snapshot.table(nom)}')")
    return {ligne[cle]: ligne for ligne in (dict(zip(relation.columns, r, strict=True)) for r in relation.fetchall())}


# --- contrôles communs -----------------------------------------------------------------------------------

_ANGLAIS = re.compile(r"\b(error|expected|found|columns?|line|invalid|missing|unknown|value|file|the|not)\b", re.I)
_FRANCAIS = re.compile(r"[éèêàâçôûù«»]|\b(ligne|colonne|valeur|code|fichier|feuille|date|nombre|année)\b", re.I)


def etat(warehouse: Warehouse) -> tuple[object, ...]:
    catalogue_json = warehouse.catalogue_path.read_bytes() if warehouse.catalogue_path.exists() else None
    return (
        catalogue_json,
        sorted(p.name for p in warehouse.snapshots_dir.iterdir()),
        sorted(p.name for p in warehouse.root.iterdir() if p.name != "verrou"),  # the lock file may appear
    )


def refuser(warehouse: Warehouse, nom: str, path: Path, code: str) -> ErrorReport:
    """Importe `path`, exige un refus portant `code`, des messages en français et un entrepôt intact."""
    avant = etat(warehouse)
    with pytest.raises(ImportRejected) as refus:
        import_events(warehouse, nom, path)
    report = refus.value.report
    assert code in report.counts, report.sorted_anomalies()
    for anomalie in report.sorted_anomalies():
        assert anomalie.code in controles.ERROR_CODES
        assert anomalie.message.strip() and not _ANGLAIS.search(anomalie.message), anomalie.message
        assert _FRANCAIS.search(anomalie.message), anomalie.message
    assert etat(warehouse) == avant
    return report


def une_anomalie(report: ErrorReport, code: str, ligne: int | None, colonne: str | None, valeur: object) -> Anomaly:
    trouvees = [a for a in report.sorted_anomalies() if a.code == code]
    assert len(trouvees) == 1, report.sorted_anomalies()
    anomalie = trouvees[0]
    assert (anomalie.line, anomalie.column, anomalie.value) == (ligne, colonne, valeur)
    return anomalie


@pytest.fixture
def entrepot(warehouse: Warehouse) -> Warehouse:
    """Un entrepôt qui contient déjà un import d'attributions valide."""
    import_events(warehouse, "attributions", FIXTURES / "attributions.csv")
    return warehouse


# --- fichiers valides --------------------------------------------------------------------------------------


def test_csv_attributions_valeurs_typees(warehouse):
    resultat = import_events(warehouse, "attributions", FIXTURES / "attributions.csv")
    assert (resultat.rows, resultat.years, resultat.ignored_columns) == (4, [2023, 2024], ["commentaire"])
    lignes = table(resultat, "attributions", "id_attribution")
    premiere = lignes["ATT-2023-001"]
    assert premiere["date_bail"] == date(2023, 6, 15)
    assert (premiere["en_qpv"], premiere["dalo"], premiere["prioritaire"], premiere["zone_tendue"]) == (
        True,
        False,
        True,
        True,
    )
    assert (premiere["contingent"], premiere["quartile"], premiere["annee"], premiere["departement"]) == (
        "PREFET",
        1,
        2023,
        "69",
    )
    assert premiere["ident_rep"] is None  # colonne facultative absente du fichier
    deuxieme = lignes["ATT-2023-002"]
    assert (deuxieme["date_bail"], deuxieme["en_qpv"], deuxieme["dalo"], deuxieme["prioritaire"]) == (
        date(2023, 12, 31),
        False,
        True,
        False,
    )
    assert (deuxieme["financement"], deuxieme["zone_tendue"], deuxieme["departement"]) == (None, None, "2A")
    troisieme = lignes["ATT-2024-001"]
    assert (troisieme["contingent"], troisieme["financement"], troisieme["quartile"]) == (
        "ACTION_LOGEMENT",
        "PLUS",
        None,
    )
    assert (troisieme["mutation_interne"], troisieme["departement"], troisieme["annee"]) == (True, "974", 2024)
    assert lignes["ATT-2024-002"]["date_bail"] == date(2024, 2, 29)
    provenance = resultat.snapshot.provenance
    assert provenance["encodage"] == "utf-8 avec BOM"
    assert provenance["colonnes_ignorees"] == ["commentaire"]
    assert provenance["annees"] == [2023, 2024]
    assert len(provenance["sha256"]) == 64


def test_csv_separe_par_des_virgules_decimales_entre_guillemets(warehouse):
    resultat = import_events(warehouse, "couts", FIXTURES / "couts.csv")
    assert resultat.snapshot.provenance["separateur"] == ","
    stockees = duckdb.sql(
        f"SELECT annee, departement, nature, renouvellement_urbain, montant_ht "
        f"FROM read_parquet('{resultat.snapshot.table('couts')}') ORDER BY montant_ht"
    ).fetchall()
    assert stockees == [
        (2024, "2A", "GROS_ENTRETIEN", True, 0.5),
        (2023, None, "TFPB", None, 1500.5),
        (2023, "69", "GESTION", False, 1234567.89),
    ]


def test_csv_latin1_separe_par_des_tabulations(warehouse, tmp_path):
    lignes = [
        exemple("reclamations", id_reclamation="R1", date_reception="03/01/2024", segment="Résidence Érables"),
        exemple(
            "reclamations",
            id_reclamation="R2",
            date_reception="2025-01-05",
            date_reponse="",
            date_cloture="",
            ecrite="NON",
        ),
    ]
    path = ecrire(tmp_path / "reclamations.csv", lignes, sep="\t", encodage="latin-1")
    resultat = import_events(warehouse, "reclamations", path)
    assert resultat.years == [2024, 2025]
    assert resultat.snapshot.provenance["encodage"] == "latin-1"
    assert resultat.snapshot.provenance["separateur"] == "tabulation"
    lignes_stockees = table(resultat, "reclamations", "id_reclamation")
    assert lignes_stockees["R1"]["segment"] == "Résidence Érables"
    assert lignes_stockees["R1"]["date_reception"] == date(2024, 1, 3)
    assert (lignes_stockees["R2"]["date_reponse"], lignes_stockees["R2"]["ecrite"]) == (None, False)


def test_csv_windows_1252_lu_et_note(warehouse, tmp_path):
    path = ecrire(tmp_path / "vacances.csv", [exemple("vacances", segment="L’Œillet")], encodage="cp1252")
    resultat = import_events(warehouse, "vacances", path)
    assert resultat.snapshot.provenance["encodage"] == "windows-1252"
    assert table(resultat, "vacances", "ident_rep")["0000123456"]["segment"] == "L’Œillet"


@pytest.mark.parametrize("nom", sorted(event_schemas()))
def test_la_ligne_d_exemple_de_la_documentation_s_importe(warehouse, tmp_path, nom):
    path = tmp_path / f"{nom}.csv"
    path.write_text("\n".join(example_lines(event_schemas()[nom])) + "\n", encoding="utf-8")
    resultat = import_events(warehouse, nom, path)
    assert resultat.rows == 1
    assert resultat.years == ([] if event_schemas()[nom].nature == "registre" else [2024])


def test_xlsx_impayes_cellules_typees_et_feuille_du_meme_nom(warehouse, tmp_path):
    entete = ["ID_BAIL", "organisme", "depcom", "date_situation", "mois_impayes", "montant"]
    entete += ["accompagnement_social", "plan_apurement"]
    path = classeur(
        tmp_path / "impayes.xlsx",
        {
            "Notes": [["Export du logiciel de gestion"]],
            "impayes": [
                entete,
                ["B1", 12345678901234, 1001, datetime(2023, 12, 31), 3, 1234.5, True, False],
                [None] * 8,  # ligne vide ignorée
                ["B2", "123", "69123", "31/12/2024", 2.0, 80, "oui", "non"],
                ["B3", "123", "2A004", 45657, 0, 0.25, False, True],  # date saisie comme nombre (31/12/2024)
            ],
        },
    )
    resultat = import_events(warehouse, "impayes", path)
    assert (resultat.rows, resultat.years) == (3, [2023, 2024])
    assert resultat.snapshot.provenance["format"] == "xlsx"
    assert resultat.snapshot.provenance["feuille"] == "impayes"
    lignes = table(resultat, "impayes", "id_bail")
    assert lignes["B1"]["depcom"] == "01001"
    assert lignes["B1"]["departement"] == "01"
    assert lignes["B1"]["organisme"] == "12345678901234"
    assert lignes["B1"]["date_situation"] == date(2023, 12, 31)
    assert (lignes["B1"]["montant"], lignes["B1"]["accompagnement_social"], lignes["B1"]["plan_apurement"]) == (
        1234.5,
        True,
        False,
    )
    assert (lignes["B2"]["mois_impayes"], lignes["B2"]["montant"], lignes["B2"]["annee"]) == (2, 80.0, 2024)
    assert lignes["B3"]["date_situation"] == date(2024, 12, 31)
    assert lignes["B3"]["departement"] == "2A"


def test_xlsx_registre_premiere_feuille(warehouse, tmp_path):
    entete = ["id_equipement", "organisme", "depcom", "type_equipement", "annee_mise_en_service", "annee_retrait"]
    path = classeur(
        tmp_path / "parc.xlsx",
        {
            "Feuil1": [
                entete,
                ["ASC-1", "123", "31555", "ascenseur", 1998, None],
                ["CH-1", "123", "31555", "CHAUFFERIE", 1975.0, 2019],
            ]
        },
    )
    resultat = import_events(warehouse, "equipements", path)
    assert (resultat.rows, resultat.years) == (2, [])
    lignes = table(resultat, "equipements", "id_equipement")
    assert (lignes["ASC-1"]["type_equipement"], lignes["ASC-1"]["annee_retrait"]) == ("ASCENSEUR", None)
    assert (lignes["CH-1"]["annee_mise_en_service"], lignes["CH-1"]["annee_retrait"]) == (1975, 2019)


def test_un_nouvel_import_remplace_seulement_les_annees_qu_il_couvre(warehouse, tmp_path):
    deux_ans = [
        attribution(1, date_bail="2023-03-01"),
        attribution(2, date_bail="2023-04-01"),
        attribution(3, date_bail="2024-03-01"),
        attribution(4, date_bail="2024-04-01"),
    ]
    premier = import_events(warehouse, "attributions", ecrire(tmp_path / "a.csv", deux_ans))
    correction = [attribution(5, date_bail="2024-05-01", quartile="4")]
    second = import_events(warehouse, "attributions", ecrire(tmp_path / "b.csv", correction))
    assert (premier.years, second.years) == ([2023, 2024], [2024])
    sql, lus = event_view_sql(warehouse, event_schemas()["attributions"])
    assert lus == [premier.snapshot.id, second.snapshot.id]
    vues = duckdb.sql(f"SELECT annee, id_attribution FROM ({sql}) ORDER BY 1, 2").fetchall()
    assert vues == [(2023, "ATT-0001"), (2023, "ATT-0002"), (2024, "ATT-0005")]


def test_un_registre_est_remplace_en_entier(warehouse, tmp_path):
    premier = [exemple("equipements", id_equipement="E1"), exemple("equipements", id_equipement="E2")]
    import_events(warehouse, "equipements", ecrire(tmp_path / "a.csv", premier))
    import_events(warehouse, "equipements", ecrire(tmp_path / "b.csv", [exemple("equipements", id_equipement="E3")]))
    sql, _ = event_view_sql(warehouse, event_schemas()["equipements"])
    assert duckdb.sql(f"SELECT id_equipement FROM ({sql})").fetchall() == [("E3",)]


def test_communes_verifiees_contre_le_cog_charge(warehouse, tmp_path, cog_dir):
    load_cog(warehouse, cog_dir, 2026)
    lignes = [attribution(1), attribution(2, depcom="69999"), attribution(3, depcom="2A004")]
    report = refuser(warehouse, "attributions", ecrire(tmp_path / "a.csv", lignes), "COMMUNE_INCONNUE")
    assert report.counts == {"COMMUNE_INCONNUE": 1}
    assert "COG 2026" in une_anomalie(report, "COMMUNE_INCONNUE", 3, "depcom", "69999").message
    valide = import_events(warehouse, "attributions", ecrire(tmp_path / "b.csv", [attribution(1)]))
    assert valide.snapshot.provenance["referentiel_geographique"] == "COG 2026"


# --- valeurs refusées : 4 lignes dont la 3e (ligne 4 du fichier) est fautive ---------------------------

CAS = [
    ("attributions", "date_bail", "2024-02-30", "DATE_JOUR_INVALIDE"),
    ("attributions", "date_bail", "2024/03/01", "DATE_JOUR_INVALIDE"),
    ("attributions", "date_bail", "31/03/1850", "DATE_JOUR_INVALIDE"),
    ("attributions", "date_bail", "2024-03-01 10:00", "DATE_JOUR_INVALIDE"),
    ("attributions", "en_qpv", "peut-être", "BOOLEEN_INVALIDE"),
    ("attributions", "en_qpv", " oui", "BOOLEEN_INVALIDE"),
    ("attributions", "quartile", "5", "HORS_BORNES"),
    ("attributions", "quartile", "0", "HORS_BORNES"),
    ("attributions", "quartile", "2,5", "ENTIER_INVALIDE"),
    ("attributions", "quartile", "deux", "ENTIER_INVALIDE"),
    ("attributions", "contingent", "MAIRIE", "CODE_INCONNU"),
    ("attributions", "depcom", "6912", "COMMUNE_INVALIDE"),
    ("attributions", "depcom", "20004", "COMMUNE_INVALIDE"),
    ("attributions", "ident_rep", "12345678901", "LONGUEUR_MAX_DEPASSEE"),
    ("attributions", "id_attribution", "", "VALEUR_OBLIGATOIRE_ABSENTE"),
    ("attributions", "dalo", "   ", "VALEUR_OBLIGATOIRE_ABSENTE"),
    ("couts", "montant_ht", "-5", "HORS_BORNES"),
    ("couts", "montant_ht", "12 000", "NOMBRE_INVALIDE"),
    ("couts", "montant_ht", "1.234,5", "NOMBRE_INVALIDE"),
    ("couts", "montant_ht", "12€", "NOMBRE_INVALIDE"),
    ("couts", "montant_ht", "inf", "NOMBRE_INVALIDE"),
    ("couts", "departement", "20", "DEPARTEMENT_INVALIDE"),
    ("couts", "departement", "975", "DEPARTEMENT_INVALIDE"),
    ("couts", "annee", "24", "ANNEE_INCORRECTE"),
    ("couts", "annee", "1750", "ANNEE_INCORRECTE"),
    ("gardiens", "etp", "10001", "HORS_BORNES"),
    ("operations", "etiquette_apres", "H", "CODE_INCONNU"),
    ("vacances", "date_fin", "01/01/2024", "DATES_INCOHERENTES"),
    ("reclamations", "date_cloture", "2024-03-30", "DATES_INCOHERENTES"),
    ("equipements", "annee_retrait", "2023", "DATES_INCOHERENTES"),
]


def _lignes_distinctes(nom: str, nombre: int) -> list[dict[str, str]]:
    """`nombre` lignes valides du format `nom`, de clés différentes."""
    schema = event_schemas()[nom]
    lignes = []
    for i in range(nombre):
        ligne = exemple(nom)
        for colonne in schema.cle:
            if schema.by_name()[colonne].type == "texte":
                ligne[colonne] = f"K{i}"
        lignes.append(ligne)
    return lignes


@pytest.mark.parametrize(("nom", "colonne", "valeur", "code"), CAS, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CAS])
def test_valeur_refusee(warehouse, tmp_path, nom, colonne, valeur, code):
    lignes = _lignes_distinctes(nom, 4)
    lignes[2][colonne] = valeur
    report = refuser(warehouse, nom, ecrire(tmp_path / f"{nom}.csv", lignes), code)
    assert report.counts == {code: 1}, report.sorted_anomalies()
    attendue = None if code == "VALEUR_OBLIGATOIRE_ABSENTE" else valeur
    anomalie = une_anomalie(report, code, 4, colonne, attendue)
    assert colonne in anomalie.message
    if attendue:
        assert f"« {valeur} »" in anomalie.message


def test_une_colonne_de_date_dans_le_desordre_nomme_l_autre(warehouse, tmp_path):
    lignes = [exemple("vacances", ident_rep="V1", date_debut="2024-03-01", date_fin="2024-02-28")]
    report = refuser(warehouse, "vacances", ecrire(tmp_path / "v.csv", lignes), "DATES_INCOHERENTES")
    anomalie = une_anomalie(report, "DATES_INCOHERENTES", 2, "date_fin", "2024-02-28")
    assert "date_debut (« 2024-03-01 »)" in anomalie.message


def test_identifiant_en_double(warehouse, tmp_path):
    lignes = [attribution(1), attribution(2), attribution(1), attribution(3)]
    report = refuser(warehouse, "attributions", ecrire(tmp_path / "a.csv", lignes), "CLE_EN_DOUBLE")
    assert report.counts == {"CLE_EN_DOUBLE": 1}
    anomalie = une_anomalie(report, "CLE_EN_DOUBLE", 4, "id_attribution", "ATT-0001")
    assert "ligne 2" in anomalie.message


def test_cle_composee_en_double_malgre_deux_ecritures_de_la_date(warehouse, tmp_path):
    lignes = [
        exemple("vacances", date_debut="2024-03-01", date_fin=""),
        exemple("vacances", date_debut="2024-04-01", date_fin=""),
        exemple("vacances", date_debut="01/03/2024", date_fin=""),
    ]
    report = refuser(warehouse, "vacances", ecrire(tmp_path / "v.csv", lignes), "CLE_EN_DOUBLE")
    une_anomalie(report, "CLE_EN_DOUBLE", 4, "ident_rep, date_debut", "0000123456 | 2024-03-01")


def test_toutes_les_erreurs_sont_rapportees_dans_l_ordre_du_fichier(entrepot, tmp_path):
    lignes = [attribution(i) for i in range(1, 7)]
    lignes[1]["quartile"] = "9"
    lignes[3]["date_bail"] = "hier"
    lignes[3]["contingent"] = ""
    lignes[5]["en_qpv"] = "peut-être"
    report = refuser(entrepot, "attributions", ecrire(tmp_path / "a.csv", lignes), "HORS_BORNES")
    vues = [(a.line, a.column, a.code) for a in report.sorted_anomalies()]
    assert vues == [
        (3, "quartile", "HORS_BORNES"),
        (5, "contingent", "VALEUR_OBLIGATOIRE_ABSENTE"),
        (5, "date_bail", "DATE_JOUR_INVALIDE"),
        (7, "en_qpv", "BOOLEEN_INVALIDE"),
    ]


# --- le fichier et son en-tête ------------------------------------------------------------------------------


def test_fichier_introuvable(entrepot, tmp_path):
    report = refuser(entrepot, "attributions", tmp_path / "absent.csv", "FICHIER_INTROUVABLE")
    assert "absent.csv" in une_anomalie(report, "FICHIER_INTROUVABLE", None, None, None).message


def test_fichier_vide(entrepot, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"")
    report = refuser(entrepot, "attributions", path, "FICHIER_VIDE")
    assert report.counts == {"FICHIER_VIDE": 1}


@pytest.mark.parametrize("fin_de_ligne", ["\n", ""], ids=["avec-fin-de-ligne", "sans"])
def test_entete_seul(entrepot, tmp_path, fin_de_ligne):
    path = tmp_path / "a.csv"
    path.write_text(";".join(attribution(1)) + fin_de_ligne, encoding="utf-8")
    report = refuser(entrepot, "attributions", path, "AUCUNE_LIGNE")
    assert report.counts == {"AUCUNE_LIGNE": 1}
    une_anomalie(report, "AUCUNE_LIGNE", 2, None, None)


@pytest.mark.parametrize("absente", ["date_bail", "DALO"])
def test_colonne_obligatoire_absente(entrepot, tmp_path, absente):
    lignes = [attribution(1), attribution(2)]
    colonnes = [c for c in lignes[0] if c != absente.lower()]
    report = refuser(
        entrepot, "attributions", ecrire(tmp_path / "a.csv", lignes, colonnes), "COLONNE_OBLIGATOIRE_ABSENTE"
    )
    assert report.counts == {"COLONNE_OBLIGATOIRE_ABSENTE": 1}
    une_anomalie(report, "COLONNE_OBLIGATOIRE_ABSENTE", 1, absente.lower(), None)


def test_colonne_en_double_meme_ecrite_autrement(entrepot, tmp_path):
    path = tmp_path / "a.csv"
    lignes = ecrire(path, [attribution(1)]).read_text(encoding="utf-8").splitlines()
    path.write_text(f"{lignes[0]};Quartile \n{lignes[1]};2\n", encoding="utf-8")
    report = refuser(entrepot, "attributions", path, "COLONNE_EN_DOUBLE")
    une_anomalie(report, "COLONNE_EN_DOUBLE", 1, "Quartile", None)


def test_colonne_sans_nom(entrepot, tmp_path):
    lignes = [attribution(1)]
    colonnes = list(lignes[0])
    colonnes.insert(2, "")
    report = refuser(entrepot, "attributions", ecrire(tmp_path / "a.csv", lignes, colonnes), "COLONNE_SANS_NOM")
    une_anomalie(report, "COLONNE_SANS_NOM", 1, "n° 3", None)


def test_ligne_terminee_par_un_separateur_acceptee(warehouse, tmp_path):
    path = tmp_path / "a.csv"
    lignes = ecrire(path, [attribution(1)]).read_text(encoding="utf-8").splitlines()
    path.write_text("".join(f"{ligne};\n" for ligne in lignes), encoding="utf-8")
    assert import_events(warehouse, "attributions", path).rows == 1


def test_entete_non_reconnu(entrepot, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("Lorem ipsum dolor sit amet\nconsectetur adipiscing elit\n", encoding="utf-8")
    report = refuser(entrepot, "attributions", path, "ENTETE_NON_RECONNU")
    une_anomalie(report, "ENTETE_NON_RECONNU", 1, None, "Lorem ipsum dolor sit amet")


def test_separateur_barre_verticale(entrepot, tmp_path):
    path = ecrire(tmp_path / "a.csv", [attribution(1)], sep="|")
    report = refuser(entrepot, "attributions", path, "ENTETE_NON_RECONNU")
    assert "« | »" in report.sorted_anomalies()[0].message


def test_ligne_avec_trop_de_champs(entrepot, tmp_path):
    path = tmp_path / "a.csv"
    lignes = ecrire(path, [attribution(1), attribution(2), attribution(3)]).read_text(encoding="utf-8").splitlines()
    lignes[2] += ";en trop"
    path.write_text("\n".join(lignes) + "\n", encoding="utf-8")
    report = refuser(entrepot, "attributions", path, "NOMBRE_CHAMPS")
    assert report.counts == {"NOMBRE_CHAMPS": 1}
    une_anomalie(report, "NOMBRE_CHAMPS", 3, None, lignes[2])


def test_ligne_vide_et_champ_sur_deux_lignes_ne_decalent_pas_la_numerotation(entrepot, tmp_path):
    path = tmp_path / "a.csv"
    lignes = ecrire(path, [attribution(i) for i in range(1, 5)]).read_text(encoding="utf-8").splitlines()
    lignes[1] = lignes[1].replace("COLLECTIF-QPV", '"COLLECTIF\nQPV"')  # segment sur deux lignes (lignes 2-3)
    lignes.insert(3, "")  # ligne 5 vide
    lignes[4] = lignes[4].replace(";oui;", ";peut-être;", 1)  # 3e attribution, ligne 6
    path.write_text("\n".join(lignes) + "\n", encoding="utf-8")
    report = refuser(entrepot, "attributions", path, "BOOLEEN_INVALIDE")
    une_anomalie(report, "BOOLEEN_INVALIDE", 6, "en_qpv", "peut-être")


def test_encodages_melanges(entrepot, tmp_path):
    path = tmp_path / "a.csv"
    debut = ecrire(path, [attribution(1, segment="Été")]).read_bytes()
    path.write_bytes(debut + ";".join(attribution(2, segment="Fête").values()).encode("latin-1") + b"\n")
    report = refuser(entrepot, "attributions", path, "ENCODAGE_MIXTE")
    assert report.counts == {"ENCODAGE_MIXTE": 1}


@pytest.mark.parametrize(
    ("contenu", "nom", "code", "mot"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "a.xls", "FORMAT_NON_PRIS_EN_CHARGE", "XLS"),
        (b"%PDF-1.7\n" + b"\x00" * 64, "a.csv", "FICHIER_BINAIRE", "PDF"),
        (b"PK\x03\x04\x14\x00" + b"\x08" * 64, "a.xlsx", "CLASSEUR_ILLISIBLE", "endommagé"),
    ],
    ids=["xls", "pdf", "xlsx-tronque"],
)
def test_formats_refuses(entrepot, tmp_path, contenu, nom, code, mot):
    path = tmp_path / nom
    path.write_bytes(contenu)
    report = refuser(entrepot, "attributions", path, code)
    assert report.counts == {code: 1}
    assert mot in une_anomalie(report, code, 1, None, None).message


@pytest.mark.parametrize(
    ("fichiers", "mot"),
    [
        ({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}, "ODS"),
        ({"lisez-moi.txt": "bonjour"}, "ZIP"),
    ],
    ids=["ods", "zip"],
)
def test_archives_refusees(entrepot, tmp_path, fichiers, mot):
    path = tmp_path / "a.ods"
    with zipfile.ZipFile(path, "w") as archive:
        for nom, texte in fichiers.items():
            archive.writestr(nom, texte)
    report = refuser(entrepot, "attributions", path, "FORMAT_NON_PRIS_EN_CHARGE")
    assert mot in report.sorted_anomalies()[0].message


# --- classeurs XLSX refusés : les lignes sont celles d'Excel ------------------------------------------------

_ENTETE_VACANCES = ["ident_rep", "organisme", "depcom", "date_debut", "date_fin", "motif"]


def test_xlsx_erreur_a_la_ligne_excel(entrepot, tmp_path):
    path = classeur(
        tmp_path / "vacances.xlsx",
        {
            "Feuil1": [
                [],
                _ENTETE_VACANCES,  # ligne 2
                ["L1", "123", "69123", datetime(2024, 1, 5), None, "LOCATION"],
                [],
                ["L2", "123", "69123", "2024-13-01", None, "travaux"],  # ligne 5
                ["L3", "123", "69123", date(2024, 2, 1), date(2024, 1, 31), "VENTE"],  # ligne 6
            ]
        },
    )
    report = refuser(entrepot, "vacances", path, "DATE_JOUR_INVALIDE")
    assert report.counts == {"DATE_JOUR_INVALIDE": 1, "DATES_INCOHERENTES": 1}
    une_anomalie(report, "DATE_JOUR_INVALIDE", 5, "date_debut", "2024-13-01")
    une_anomalie(report, "DATES_INCOHERENTES", 6, "date_fin", "2024-01-31")


def test_xlsx_valeur_sous_une_colonne_sans_nom(entrepot, tmp_path):
    lignes = [_ENTETE_VACANCES, ["L1", "123", "69123", date(2024, 1, 5), None, "LOCATION", None, "note"]]
    report = refuser(entrepot, "vacances", classeur(tmp_path / "v.xlsx", {"v": lignes}), "COLONNE_SANS_NOM")
    une_anomalie(report, "COLONNE_SANS_NOM", 2, "n° 8", "note")


@pytest.mark.parametrize(
    ("lignes", "code", "ligne"),
    [
        ([], "AUCUNE_LIGNE", 1),
        ([_ENTETE_VACANCES], "AUCUNE_LIGNE", 2),
        ([["a", "b"], ["c", "d"]], "ENTETE_NON_RECONNU", 1),
    ],
    ids=["feuille-vide", "entete-seul", "entete-inconnu"],
)
def test_xlsx_sans_donnees(entrepot, tmp_path, lignes, code, ligne):
    report = refuser(entrepot, "vacances", classeur(tmp_path / "v.xlsx", {"v": lignes}), code)
    assert report.counts == {code: 1}
    assert report.sorted_anomalies()[0].line == ligne


# --- rapport, ligne de commande, vérification, documentation ------------------------------------------------


def test_rapport_ecrit_a_la_demande(entrepot, tmp_path):
    lignes = [attribution(1), attribution(2, quartile="7")]
    rapport = tmp_path / "rapport.csv"
    with pytest.raises(ImportRejected):
        import_events(entrepot, "attributions", ecrire(tmp_path / "a.csv", lignes), report_path=rapport)
    assert rapport.read_bytes().startswith(b"\xef\xbb\xbf")
    rangs = list(csv.reader(rapport.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rangs[0] == ["fichier", "ligne", "colonne", "valeur", "code", "message"]
    assert rangs[1][:5] == ["a.csv", "3", "quartile", "7", "HORS_BORNES"]


def test_commande_importer_succes_puis_refus(tmp_path, capsys):
    donnees = tmp_path / "donnees"
    assert cli.main(["importer", "attributions", str(FIXTURES / "attributions.csv"), "--data-dir", str(donnees)]) == 0
    sortie = capsys.readouterr().err
    assert "Import réussi" in sortie and "4 lignes" in sortie and "2023, 2024" in sortie
    assert "commentaire" in sortie
    instantane = Warehouse(donnees).history("attributions")[0].id
    assert instantane in sortie.replace("\n", "")

    mauvais = ecrire(tmp_path / "mauvais.csv", [attribution(1, date_bail="32/01/2024")])
    rapport = tmp_path / "rapport.csv"
    code = cli.main(["importer", "attributions", str(mauvais), "--rapport", str(rapport), "--data-dir", str(donnees)])
    assert code == 1
    assert "Fichier refusé" in capsys.readouterr().err
    assert "DATE_JOUR_INVALIDE" in rapport.read_text(encoding="utf-8-sig")
    assert len(Warehouse(donnees).history("attributions")) == 1


def test_chaque_schema_a_sa_sous_commande(capsys):
    with pytest.raises(SystemExit):
        cli.main(["importer", "--help"])
    aide = capsys.readouterr().out
    for schema in event_schemas().values():
        assert schema.nom in aide


def test_verifier_signale_un_schema_casse(monkeypatch):
    from pilote_cus import verification
    from pilote_cus.declarations import DeclarationError

    def casse() -> dict:
        raise DeclarationError("schemas/pannes.toml : déclaration invalide : colonnes.0.nom : champ obligatoire absent")

    monkeypatch.setattr(verification, "event_schemas", casse)
    assert any("pannes.toml" in p for p in verify())


def test_verifier_signale_un_ordre_de_dates_vers_une_colonne_inconnue(monkeypatch):
    monkeypatch.setitem(controles.DATE_ORDER, "vacances", (("date_debut", "date_sortie"),))
    assert any("date_sortie" in p for p in verify())


def test_codes_d_erreur_au_catalogue():
    assert set(controles.ERROR_CODES) <= set(catalogue())


@pytest.mark.parametrize("nom", sorted(event_schemas()))
def test_documentation_des_formats_a_jour(nom):
    doc = (DOCS / f"{nom}.md").read_text(encoding="utf-8")
    assert doc == event_format_doc(event_schemas()[nom]), (
        "régénérez : python -m pilote_cus.evenements.documentation docs/formats"
    )
