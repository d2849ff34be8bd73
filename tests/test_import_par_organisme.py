"""Entrepôt partagé par plusieurs bailleurs : un import ne remplace que les lignes des organismes du fichier.

Avec `garder_autres` (l'import de l'application web), les lignes des autres organismes (du millésime RPLS, des
années couvertes par un fichier d'événements, du registre) sont recopiées dans le nouvel instantané avant sa
publication. Sans l'option (la ligne de commande, l'espace d'un seul bailleur), l'instantané remplace tout.
"""

from pathlib import Path

import duckdb
import pytest

from pilote_cus.entrepot.entrepot import Snapshot, Warehouse
from pilote_cus.evenements.documentation import example_lines
from pilote_cus.evenements.import_evenements import import_events
from pilote_cus.evenements.schema import event_schemas
from pilote_cus.evenements.stockage import event_view_sql
from pilote_cus.imports.erreurs import ImportRejected
from pilote_cus.patrimoine.import_rpls import import_rpls

A, B, C = "11111111111111", "22222222222222", "33333333333333"


def ecrire(path: Path, lignes: list[dict[str, str]]) -> Path:
    colonnes: list[str] = []
    for ligne in lignes:
        colonnes += [c for c in ligne if c not in colonnes]
    texte = "\n".join([";".join(colonnes)] + [";".join(ligne.get(c, "") for c in colonnes) for ligne in lignes])
    path.write_text(texte + "\n", encoding="utf-8")
    return path


def logement(organisme: str, i: int, **valeurs: str) -> dict[str, str]:
    ligne = {
        "IDENT_REP": f"{organisme[0]}{i:05d}",
        "SIRET": organisme,
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
    return ligne | valeurs


def evenement(nom: str, **valeurs: str) -> dict[str, str]:
    entete, ligne = example_lines(event_schemas()[nom])
    return dict(zip(entete.split(";"), ligne.split(";"), strict=True)) | valeurs


def attribution(organisme: str, i: int, date_bail: str, **valeurs: str) -> dict[str, str]:
    ident = f"{organisme[0]}-{i}"
    return evenement("attributions", id_attribution=ident, organisme=organisme, date_bail=date_bail, **valeurs)


def lignes(snapshot: Snapshot, table: str, cle: str) -> dict[str, dict[str, object]]:
    relation = duckdb.sql(f"SELECT * FROM read_parquet('{snapshot.table(table)}')")
    rows = (dict(zip(relation.columns, r, strict=True)) for r in relation.fetchall())
    return {str(row[cle]): row for row in rows}


def colonnes(snapshot: Snapshot, table: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1]) for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{snapshot.table(table)}')").fetchall()
    ]


def vue(warehouse: Warehouse, nom: str, colonnes_lues: str) -> list[tuple]:
    sql, _ = event_view_sql(warehouse, event_schemas()[nom])
    return duckdb.sql(f"SELECT {colonnes_lues} FROM ({sql}) ORDER BY ALL").fetchall()


# --- RPLS ----------------------------------------------------------------------------------------------


def test_rpls_chaque_import_ne_remplace_que_son_organisme(warehouse: Warehouse, tmp_path: Path) -> None:
    a = [logement(A, i) for i in range(1, 4)]
    b = [logement(B, i, COMMENTAIRE=f"note {i}") for i in range(1, 3)]  # une colonne non documentée, conservée
    premier = import_rpls(ecrire(tmp_path / "a_2024.csv", a), warehouse, vintage=2024, garder_autres=True)
    assert (premier.snapshot.provenance["organismes"], premier.snapshot.provenance["complete_par"]) == ([A], [])
    second = import_rpls(ecrire(tmp_path / "b_2024.csv", b), warehouse, vintage=2024, garder_autres=True)
    courant = warehouse.current("rpls", 2024)
    assert courant.id == second.snapshot.id
    assert courant.provenance["organismes"] == [B] and courant.provenance["complete_par"] == [premier.snapshot.id]
    avant = lignes(courant, "logements", "ident_rep")
    assert sorted(avant) == ["100001", "100002", "100003", "200001", "200002"]
    assert courant.provenance["lignes"] == 5 and second.dwellings == 5
    assert avant["100001"]["commentaire"] is None and avant["200002"]["commentaire"] == "note 2"

    # A corrige son fichier : 4 logements, une autre surface ; B ne bouge pas
    a_corrige = [logement(A, i, SURFHAB="70") for i in range(1, 5)]
    troisieme = import_rpls(ecrire(tmp_path / "a2_2024.csv", a_corrige), warehouse, vintage=2024, garder_autres=True)
    courant = warehouse.current("rpls", 2024)
    assert courant.id == troisieme.snapshot.id
    assert courant.provenance["organismes"] == [A] and courant.provenance["complete_par"] == [second.snapshot.id]
    apres = lignes(courant, "logements", "ident_rep")
    assert sorted(apres) == ["100001", "100002", "100003", "100004", "200001", "200002"]
    assert {apres[k]["surfhab"] for k in apres if apres[k]["organisme_id"] == A} == {70.0}
    assert {k: v for k, v in apres.items() if v["organisme_id"] == B} == {
        k: v for k, v in avant.items() if v["organisme_id"] == B
    }
    assert courant.provenance["lignes"] == 6 and courant.provenance["logements_au_1er_janvier"] == 6
    # les colonnes (ordre, types) du fichier importé, puis la colonne non documentée de B, vide pour A
    assert colonnes(courant, "logements") == [*colonnes(premier.snapshot, "logements"), ("commentaire", "VARCHAR")]
    assert list(warehouse.snapshots_dir.glob(".*")) == []


def test_rpls_sans_siret_l_organisme_de_l_import(warehouse: Warehouse, tmp_path: Path) -> None:
    import_rpls(ecrire(tmp_path / "a_2024.csv", [logement(A, 1)]), warehouse, vintage=2024, garder_autres=True)
    extrait = [{k: v for k, v in logement(C, i).items() if k != "SIRET"} for i in (1, 2)]
    resultat = import_rpls(
        ecrire(tmp_path / "c_2024.csv", extrait), warehouse, vintage=2024, organisme=C, garder_autres=True
    )
    assert resultat.snapshot.provenance["organismes"] == [C]
    stockes = lignes(warehouse.current("rpls", 2024), "logements", "ident_rep")
    assert {k: v["organisme_id"] for k, v in stockes.items()} == {"100001": A, "300001": C, "300002": C}


def test_rpls_fichier_refuse_avec_l_option_rien_ne_change(warehouse: Warehouse, tmp_path: Path) -> None:
    import_rpls(ecrire(tmp_path / "a_2024.csv", [logement(A, 1)]), warehouse, vintage=2024, garder_autres=True)
    import_rpls(ecrire(tmp_path / "b_2024.csv", [logement(B, 1)]), warehouse, vintage=2024, garder_autres=True)
    avant = [s.id for s in warehouse.history()]
    fautif = [logement(A, 1), logement(A, 2, NBPIECE="trois")]
    with pytest.raises(ImportRejected):
        import_rpls(ecrire(tmp_path / "a2_2024.csv", fautif), warehouse, vintage=2024, garder_autres=True)
    assert [s.id for s in warehouse.history()] == avant and warehouse.current("rpls", 2024).id == avant[-1]
    assert sorted(lignes(warehouse.current("rpls", 2024), "logements", "ident_rep")) == ["100001", "200001"]
    assert list(warehouse.snapshots_dir.glob(".*")) == []


def test_rpls_sans_l_option_l_import_remplace_tout_le_millesime(warehouse: Warehouse, tmp_path: Path) -> None:
    import_rpls(ecrire(tmp_path / "a_2024.csv", [logement(A, 1)]), warehouse, vintage=2024)
    resultat = import_rpls(ecrire(tmp_path / "b_2024.csv", [logement(B, 1)]), warehouse, vintage=2024)
    assert "organismes" not in resultat.snapshot.provenance
    assert sorted(lignes(warehouse.current("rpls", 2024), "logements", "ident_rep")) == ["200001"]


# --- fichiers d'événements -------------------------------------------------------------------------------


def test_evenements_remplaces_par_organisme_et_par_annee(warehouse: Warehouse, tmp_path: Path) -> None:
    def deux_ans(organisme: str) -> list[dict[str, str]]:
        dates = ["2023-03-01", "2023-04-01", "2024-03-01", "2024-04-01"]
        return [attribution(organisme, i, d) for i, d in enumerate(dates, start=1)]

    b = import_events(warehouse, "attributions", ecrire(tmp_path / "b.csv", deux_ans(B)), garder_autres=True)
    a = import_events(warehouse, "attributions", ecrire(tmp_path / "a.csv", deux_ans(A)), garder_autres=True)
    assert a.snapshot.provenance["organismes"] == [A] and a.snapshot.provenance["complete_par"] == [b.snapshot.id]
    assert a.rows == 8 and a.years == [2023, 2024]
    assert len(vue(warehouse, "attributions", "id_attribution")) == 8

    # A réimporte 2024 seulement : 2023 reste lu dans l'import précédent, 2024 garde les lignes de B
    correction = [attribution(A, 5, "2024-05-01", quartile="4"), attribution(A, 6, "2024-06-01", quartile="4")]
    c = import_events(warehouse, "attributions", ecrire(tmp_path / "a2024.csv", correction), garder_autres=True)
    assert c.years == [2024] and c.rows == 4
    assert c.snapshot.provenance["organismes"] == [A] and c.snapshot.provenance["complete_par"] == [a.snapshot.id]
    assert vue(warehouse, "attributions", "annee, organisme, id_attribution, quartile") == [
        (2023, A, "1-1", 1),
        (2023, A, "1-2", 1),
        (2023, B, "2-1", 1),
        (2023, B, "2-2", 1),
        (2024, A, "1-5", 4),
        (2024, A, "1-6", 4),
        (2024, B, "2-3", 1),
        (2024, B, "2-4", 1),
    ]
    assert colonnes(c.snapshot, "attributions") == colonnes(b.snapshot, "attributions")


def test_registre_remplace_par_organisme(warehouse: Warehouse, tmp_path: Path) -> None:
    def equipements(organisme: str, *ids: str) -> list[dict[str, str]]:
        return [evenement("equipements", id_equipement=i, organisme=organisme) for i in ids]

    import_events(warehouse, "equipements", ecrire(tmp_path / "b.csv", equipements(B, "B1", "B2")), garder_autres=True)
    import_events(warehouse, "equipements", ecrire(tmp_path / "a.csv", equipements(A, "A1")), garder_autres=True)
    import_events(warehouse, "equipements", ecrire(tmp_path / "a2.csv", equipements(A, "A2")), garder_autres=True)
    assert vue(warehouse, "equipements", "organisme, id_equipement") == [(A, "A2"), (B, "B1"), (B, "B2")]


def test_evenements_fichier_refuse_avec_l_option_rien_ne_change(warehouse: Warehouse, tmp_path: Path) -> None:
    bons = [attribution(B, 1, "2024-03-01"), attribution(A, 1, "2024-03-01")]
    import_events(warehouse, "attributions", ecrire(tmp_path / "ab.csv", bons), garder_autres=True)
    avant = [s.id for s in warehouse.history()]
    fautif = [attribution(A, 2, "2024-03-01", quartile="9")]
    with pytest.raises(ImportRejected):
        import_events(warehouse, "attributions", ecrire(tmp_path / "a.csv", fautif), garder_autres=True)
    assert [s.id for s in warehouse.history()] == avant
    assert vue(warehouse, "attributions", "organisme, id_attribution") == [(A, "1-1"), (B, "2-1")]
    assert list(warehouse.snapshots_dir.glob(".*")) == []


def test_evenements_sans_l_option_l_import_remplace_l_annee(warehouse: Warehouse, tmp_path: Path) -> None:
    import_events(warehouse, "attributions", ecrire(tmp_path / "b.csv", [attribution(B, 1, "2024-03-01")]))
    a = import_events(warehouse, "attributions", ecrire(tmp_path / "a.csv", [attribution(A, 1, "2024-03-01")]))
    assert "organismes" not in a.snapshot.provenance
    assert vue(warehouse, "attributions", "organisme, id_attribution") == [(A, "1-1")]
