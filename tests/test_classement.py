"""Classement au service rendu: grid validation, hand-computed scoring, overrides, real open data."""

from pathlib import Path

import duckdb
import pytest

from pilote_cus.classement.grille import GrilleError, load_grid, parse_grid, shipped_grid
from pilote_cus.classement.references import ReferenceData, ReferenceError
from pilote_cus.classement.score import ClassementError, Override, score

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

GRID = """\
version = "essai-1"
nom = "Grille d'essai"
valide_du = 2025-01-01
valide_au = 2027-12-31

[[criteres]]
nom = "ascenseur"
libelle = "Ascenseur"
source = "bailleur"
poids = 2
[criteres.parametres]
champ = "ascenseur"
[criteres.bareme]
sens = "croissant"
seuils = [1]
points = [3]

[[criteres]]
nom = "vacance"
libelle = "Taux de vacance"
source = "bailleur"
poids = 1
[criteres.parametres]
champ = "taux_vacance"
[criteres.bareme]
sens = "decroissant"
seuils = [2, 5]
points = [2, 1]

[[criteres]]
nom = "parties_communes"
libelle = "État des parties communes"
source = "saisie"
poids = 1.5
[criteres.parametres]
champ = "etat_parties_communes"
[criteres.bareme]
sens = "croissant"
seuils = [1, 2]
points = [1, 2]

[[classes]]
nom = "C"
libelle = "Insuffisant"
score_min = 0

[[classes]]
nom = "B"
libelle = "Moyen"
score_min = 4

[[classes]]
nom = "A"
libelle = "Élevé"
score_min = 8
"""

ENSEMBLES = [
    # 2×3 + 1×2 + 1,5×2 = 11 → A
    {"id": "E1", "commune": "69381", "ascenseur": "oui", "taux_vacance": 1.5, "etat_parties_communes": 2},
    # 2×0 + 1×1 + 1,5×1 = 2,5 → C
    {"id": "E2", "commune": "69381", "ascenseur": "non", "taux_vacance": 5, "etat_parties_communes": 1},
    # 2×3 + 1×0 + 1,5×0 = 6 → B
    {"id": "E3", "commune": "69381", "ascenseur": True, "taux_vacance": 7.2, "etat_parties_communes": 0},
]


def _broken(old: str, new: str, count: int = 1) -> str:
    assert old in GRID
    return GRID.replace(old, new, count)


def _refused(text: str) -> str:
    with pytest.raises(GrilleError) as caught:
        parse_grid(text, "grille.toml")
    return str(caught.value)


def test_valid_grid_loads_with_its_version(tmp_path: Path) -> None:
    path = tmp_path / "grille.toml"
    path.write_text(GRID, encoding="utf-8")
    grid = load_grid(path)
    assert grid.version == "essai-1"
    assert [c.nom for c in grid.criteres] == ["ascenseur", "vacance", "parties_communes"]
    assert grid.maximum_score == 2 * 3 + 2 + 1.5 * 2


def test_shipped_grid_is_valid() -> None:
    grid = shipped_grid()
    assert grid.version == "2025.1"
    assert {c.source for c in grid.criteres} == {"bpe", "arrets", "qpv", "bailleur", "saisie"}


def test_invalid_file_is_refused_with_file_line_criterion_and_field(tmp_path: Path) -> None:
    path = tmp_path / "grille.toml"
    path.write_text(_broken("poids = 2\n", "poids = 0\n"), encoding="utf-8")
    with pytest.raises(GrilleError) as caught:
        load_grid(path)
    assert str(caught.value) == (
        f"{path} : grille invalide :\n"
        "- ligne 10, critère « ascenseur », champ « poids » : doit être strictement positif (reçu 0)"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "poids = 1\n",
            "poids = -1\n",
            "critère « vacance », champ « poids » : doit être strictement positif (reçu -1)",
        ),
        ("seuils = [2, 5]", "seuils = [5, 2]", "critère « vacance », champ « bareme.seuils » : les seuils doivent"),
        ("points = [2, 1]", "points = [2]", "critère « vacance », champ « bareme.points » : 1 points pour 2 seuils"),
        ("points = [2, 1]", "points = [1, 2]", "barème décroissant : les points ne peuvent pas augmenter"),
        (
            'source = "saisie"',
            'source = "enquete"',
            "critère « parties_communes », champ « source » : valeur non admise",
        ),
        (
            'champ = "taux_vacance"',
            'champ = "loyer"',
            "critère « vacance », champ « parametres.champ » : valeur non admise",
        ),
        ('champ = "ascenseur"', 'champ = "ascenseur"\nrayon_m = 300', "champ « parametres.rayon_m » : clé inconnue"),
        (
            'sens = "croissant"\nseuils = [1]',
            'sens = "croissant"\nseuil = [1]',
            "champ « bareme.seuil » : clé inconnue",
        ),
        (
            'nom = "vacance"',
            'nom = "ascenseur"',
            "ligne 19, critère « ascenseur », champ « nom » : critère déjà déclaré",
        ),
        ('champ = "taux_vacance"', 'champ = "ascenseur"', "mesure la même chose que le critère « ascenseur »"),
        ("score_min = 8", "score_min = 3", "classe « A », champ « score_min » : les seuils de classe doivent être"),
        ("score_min = 8", "score_min = 20", "seuil 20 inatteignable (score maximal de la grille : 11)"),
        ("score_min = 0", "score_min = 1", "classe « C », champ « score_min » : la première classe doit commencer à 0"),
        ("valide_au = 2027-12-31", "valide_au = 2024-12-31", "ligne 4, champ « valide_au » : doit être postérieure"),
        ('version = "essai-1"\n', "", "champ « version » : champ obligatoire absent"),
    ],
)
def test_each_grid_rule_is_enforced(old: str, new: str, expected: str) -> None:
    message = _refused(_broken(old, new))
    assert message.startswith("grille.toml : grille invalide :")
    assert expected in message


def test_bpe_parameters_are_checked() -> None:
    text = _broken(
        'source = "saisie"\npoids = 1.5\n[criteres.parametres]\nchamp = "etat_parties_communes"',
        'source = "bpe"\npoids = 1.5\n[criteres.parametres]\ntypes = ["D201", "pharmacie"]',
    )
    assert (
        "critère « parties_communes », champ « parametres.types » : code d'équipement BPE invalide « pharmacie »"
        in (_refused(text))
    )


SAISIE = 'champ = "etat_parties_communes"'


@pytest.mark.parametrize(
    ("parametres", "expected"),
    [
        ('valeurs = ["mauvais", "bon"]\nminimum = 0', "« parametres.valeurs » : donnez soit des valeurs nommées, soit"),
        ("minimum = 3\nmaximum = 1", "« parametres.maximum » : doit être strictement supérieur au minimum"),
        ('valeurs = ["seul"]', "« parametres.valeurs » : liste vide ou trop courte"),
        ("echelle = 4", "« parametres.echelle » : clé inconnue"),
    ],
)
def test_entered_criterion_scale_is_checked(parametres: str, expected: str) -> None:
    message = _refused(_broken(SAISIE, f"{SAISIE}\n{parametres}"))
    assert "critère « parties_communes »" in message and expected in message


@pytest.mark.parametrize(
    ("parametres", "value", "expected"),
    [
        ('valeurs = ["mauvais", "moyen", "bon"]', "3", "valeur « 3 » hors du barème (attendu : 0 = mauvais, 1 = moyen"),
        ('valeurs = ["mauvais", "moyen", "bon"]', "1.5", "valeur « 1.5 » hors du barème"),
        ("minimum = 0\nmaximum = 3", "-1", "hors du barème (attendu : un nombre de 0 à 3)"),
        ("minimum = 0", "trois", "valeur non numérique « trois » (attendu : un nombre supérieur ou égal à 0)"),
    ],
)
def test_entered_values_outside_the_scale_are_refused(parametres: str, value: str, expected: str) -> None:
    grid = parse_grid(_broken(SAISIE, f"{SAISIE}\n{parametres}"), "grille.toml")
    rows = [{**ENSEMBLES[0], "etat_parties_communes": value}]
    with pytest.raises(ClassementError, match="critère « parties_communes », champ « etat_parties_communes »") as e:
        score(rows, grid, ReferenceData())
    assert expected in str(e.value)


def test_entered_level_is_explained_with_its_label() -> None:
    grid = parse_grid(_broken(SAISIE, f'{SAISIE}\nvaleurs = ["mauvais", "moyen", "bon"]'), "grille.toml")
    detail = score(ENSEMBLES[:1], grid, ReferenceData()).detail("E1", "parties_communes")
    assert detail.explanation == "État des parties communes (saisi) : 2 (bon) → 2 points"


def test_hand_computed_scores_and_classes() -> None:
    result = score(ENSEMBLES, parse_grid(GRID, "grille.toml"), ReferenceData())
    assert result.grid_version == "essai-1"
    assert [(e.ensemble_id, e.total, e.proposed_class) for e in result.ensembles] == [
        ("E1", 11.0, "A"),
        ("E2", 2.5, "C"),
        ("E3", 6.0, "B"),
    ]
    vacancy = result.detail("E2", "vacance")
    assert (vacancy.raw_value, vacancy.points, vacancy.weight, vacancy.weighted_points) == (5.0, 1.0, 1.0, 1.0)
    assert vacancy.explanation == "taux de vacance : 5 % → 1 point"
    assert result.detail("E1", "parties_communes").explanation == "État des parties communes (saisi) : 2 → 2 points"
    assert result.detail("E1", "parties_communes").weighted_points == 3.0
    assert result.detail("E3", "ascenseur").explanation == "ascenseur : oui → 3 points"


def test_ensembles_can_come_from_a_duckdb_relation() -> None:
    connection = duckdb.connect()
    relation = connection.sql(
        "SELECT 'R1' AS id, '69381' AS commune, 'non' AS ascenseur, 1.0 AS taux_vacance, 2 AS etat_parties_communes"
    )
    result = score(relation, parse_grid(GRID, "grille.toml"), ReferenceData())
    assert result.ensemble("R1").total == 0 + 2 + 3


def test_missing_value_scores_zero_and_says_so() -> None:
    rows = [{**ENSEMBLES[0], "taux_vacance": None}]
    detail = score(rows, parse_grid(GRID, "grille.toml"), ReferenceData()).detail("E1", "vacance")
    assert (detail.raw_value, detail.points, detail.explanation) == (
        None,
        0.0,
        "taux de vacance : non renseigné → 0 point",
    )


def test_override_keeps_proposed_class_and_reason() -> None:
    overrides = [Override("E2", "B", "  Réhabilitation livrée en 2025, parties communes refaites  ")]
    result = score(ENSEMBLES, parse_grid(GRID, "grille.toml"), ReferenceData(), overrides)
    forced = result.ensemble("E2")
    assert (forced.proposed_class, forced.retained_class) == ("C", "B")
    assert forced.override_reason == "Réhabilitation livrée en 2025, parties communes refaites"
    assert result.ensemble("E1").retained_class == "A" and result.ensemble("E1").override_reason is None


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (Override("E2", "B", "   "), "forçage de l'ensemble « E2 » en classe « B » refusé : le motif est obligatoire."),
        (Override("E2", "D", "motif"), "refusé : classe inconnue de la grille (classes : C, B, A)."),
        (Override("E9", "B", "motif"), "refusé : ensemble absent des ensembles classés."),
    ],
)
def test_invalid_overrides_are_refused(override: Override, expected: str) -> None:
    with pytest.raises(ClassementError, match=r"^forçage") as caught:
        score(ENSEMBLES, parse_grid(GRID, "grille.toml"), ReferenceData(), [override])
    assert str(caught.value).endswith(expected)


def test_invalid_ensemble_values_are_refused() -> None:
    grid = parse_grid(GRID, "grille.toml")
    with pytest.raises(ClassementError, match="ensemble « E1 », critère « ascenseur », champ « ascenseur »"):
        score([{**ENSEMBLES[0], "ascenseur": "peut-être"}], grid, ReferenceData())
    with pytest.raises(ClassementError, match="ensemble n° 2 « E1 » : identifiant en double"):
        score([ENSEMBLES[0], ENSEMBLES[0]], grid, ReferenceData())
    with pytest.raises(ClassementError, match="pas au 01/01/2030"):
        from datetime import date

        score(ENSEMBLES, grid, ReferenceData(), on=date(2030, 1, 1))


def test_open_data_source_must_be_loaded() -> None:
    with pytest.raises(ClassementError, match="critère « transports » : la source « arrets » n'a pas été chargée"):
        score([{"id": "X", "commune": "69381", "lat": 45.76, "lon": 4.83}], shipped_grid(), ReferenceData())


# --- loaders -------------------------------------------------------------------------------------------------


def test_loaders_report_missing_file_and_column(tmp_path: Path) -> None:
    references = ReferenceData()
    with pytest.raises(ReferenceError, match=r"absent\.parquet : fichier BPE introuvable"):
        references.load_bpe(tmp_path / "absent.parquet")
    stops = tmp_path / "stops.txt"
    stops.write_text("stop_id,stop_name,stop_lat\n1,Gare,45.7\n", encoding="utf-8")
    with pytest.raises(ReferenceError, match=r"stops.txt : colonne\(s\) absente\(s\) : stop_lon"):
        references.load_stops(stops)
    stops.write_text("stop_id,stop_lat,stop_lon\n1,45.7,4.8\n2,quarante,4.8\n", encoding="utf-8")
    with pytest.raises(
        ReferenceError, match=r"stops\.txt : ligne 3, colonne stop_lat : coordonnée invalide « quarante »"
    ):
        references.load_stops(stops)
    bpe = tmp_path / "bpe.csv"
    bpe.write_text("DEPCOM;TYPEQU;NB_EQUIP\n69381;D201;3\n", encoding="utf-8")
    with pytest.raises(ReferenceError, match=r"bpe.csv : colonne\(s\) absente\(s\) : DCIRIS"):
        references.load_bpe(bpe)
    qpv = tmp_path / "qp.geojson"
    qpv.write_text('{"type": "FeatureCollection", "features": [{"properties": {}, "geometry": null}]}', "utf-8")
    with pytest.raises(ReferenceError, match=r"qp\.geojson : objet n° 1 : propriété « code_qp » absente"):
        references.load_qpv(qpv)


# --- real open data (../shared/data) -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_references() -> ReferenceData:
    if not DATA.is_dir():
        pytest.fail(f"données de référence absentes : {DATA} (../shared doit être à côté du projet)")
    references = ReferenceData()
    assert references.load_bpe(DATA / "insee" / "bpe_ens_2019.parquet") > 1_000_000
    assert references.load_stops(DATA / "transport" / "stops.txt") > 4_000
    assert references.load_qpv(DATA / "qpv" / "qp.geojson") == 105
    return references


LYON = [
    # Bellecour, between stops 159 « Bellecour Chambonnet » and 10429 « Bellecour St Exupery » (2e arr.)
    {"id": "bellecour", "commune": "69382", "lat": 45.758, "lon": 4.8325, "ascenseur": "oui", "etiquette_dpe": "C",
     "taux_vacance": 1, "etat_parties_communes": 3},
    # Part-Dieu, at stop 2198 « Part-Dieu Auditorium » (3e arr.)
    {"id": "part_dieu", "commune": "69383", "lat": 45.762221265093, "lon": 4.8497, "ascenseur": "oui",
     "etiquette_dpe": "E", "taux_vacance": 3, "etat_parties_communes": 1},
    # Affoux, Monts du Beaujolais: 20 km west of the westernmost Lyon stop
    {"id": "affoux", "commune": "69001", "lat": 45.845, "lon": 4.413, "ascenseur": "non", "etiquette_dpe": "F",
     "taux_vacance": 6, "etat_parties_communes": 1},
]  # fmt: skip


def test_real_lyon_sample(real_references: ReferenceData) -> None:
    grid = shipped_grid()
    result = score(LYON, grid, real_references)
    transport = grid.criterion("transports").bareme.maximum
    assert result.detail("bellecour", "transports").points == transport
    assert result.detail("part_dieu", "transports").points == transport
    assert result.detail("bellecour", "transports").raw_value >= 6
    affoux = result.detail("affoux", "transports")
    assert (affoux.raw_value, affoux.points, affoux.explanation) == (0, 0, "0 arrêt à moins de 400 m → 0 point")
    health = result.detail("bellecour", "sante")
    assert health.raw_value > 20 and health.points == 3
    assert health.explanation.endswith("dans la commune 69382 → 3 points")
    assert result.detail("affoux", "commerces").raw_value < result.detail("part_dieu", "commerces").raw_value
    assert result.ensemble("bellecour").proposed_class == "A"
    assert result.ensemble("affoux").proposed_class == "C"
    assert all(d.points == 2 for d in result.details if d.criterion == "hors_qpv")  # Lyon is not in the QPV file


def test_lyon_commune_code_must_be_an_arrondissement(real_references: ReferenceData) -> None:
    with pytest.raises(ClassementError, match=r"code commune absent de la BPE chargée pour : « L » \(69123\)"):
        score([{**LYON[0], "id": "L", "commune": "69123"}], shipped_grid(), real_references)


def test_real_qpv_membership(real_references: ReferenceData) -> None:
    toulouse = [
        {"id": "empalot", "commune": "31555", "lat": 43.5790, "lon": 1.4407},  # QPV Empalot
        {"id": "capitole", "commune": "31555", "lat": 43.6045, "lon": 1.4440},  # city centre, no QPV
    ]
    grid = parse_grid(
        _broken('source = "saisie"\npoids = 1.5\n[criteres.parametres]\nchamp = "etat_parties_communes"',
                'source = "qpv"\npoids = 1.5').replace('seuils = [1, 2]\npoints = [1, 2]', 'seuils = [1]\npoints = [2]')
        .replace('sens = "croissant"\nseuils = [1]\npoints = [2]', 'sens = "decroissant"\nseuils = [0]\npoints = [2]'),
        "grille.toml",
    )  # fmt: skip
    rows = [{**r, "ascenseur": "oui", "taux_vacance": 0} for r in toulouse]
    result = score(rows, grid, real_references)
    inside, outside = result.detail("empalot", "parties_communes"), result.detail("capitole", "parties_communes")
    assert (inside.raw_value, inside.points) == (1.0, 0.0)
    assert inside.explanation == "dans le QPV QP031010 (Empalot) → 0 point"
    assert (outside.raw_value, outside.points, outside.explanation) == (0.0, 2.0, "hors QPV → 2 points")
