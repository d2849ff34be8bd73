"""SVG charts: well-formed, accessible, French numbers, labels escaped."""

import xml.etree.ElementTree as ET

import pytest

from pilote_cus.graphiques import barres, barres_horizontales, courbe, nombre

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    return root


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(12345.67, 1, "12\u202f345,7"), (6.52, 2, "6,52"), (187000.0, 1, "187\u202f000"), (None, 1, "—"), (0.5, 0, "0")],
)
def test_french_numbers(value, decimals, expected):
    assert nombre(value, decimals) == expected


def test_bars_have_title_desc_and_one_bar_per_known_value():
    svg = barres("Réhabilitations <PP-1>", ["2022", "2023", "2024"], [12.5, None, 1500.0], [10.0, 10.0, None], " %")
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "Réhabilitations <PP-1>"
    desc = root.find(f"{SVG}desc").text
    assert "2022 : réalisé 12,5 %, objectif 10,0 %" in desc and "2023 : réalisé —" in desc
    assert "1\u202f500" in desc
    assert len(root.findall(f"{SVG}rect")) == 2 + 2  # two bars, two legend swatches
    assert "&lt;PP-1&gt;" in svg and "<PP-1>" not in svg


def test_line_chart_one_polyline_per_series():
    svg = courbe("Tendance", ["2019", "2020", "2021"], {"Bailleur": [1.0, 2.0, 3.0], "Objectif": [2.0, None, 2.0]})
    root = parse(svg)
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert len(root.findall(f"{SVG}circle")) == 5
    assert "Bailleur : 2019 1,0, 2020 2,0, 2021 3,0" in root.find(f"{SVG}desc").text


def test_horizontal_bars_coloured_by_status_and_escaped():
    svg = barres_horizontales("Statuts", {"atteint": 3, "non atteint": 1, "<script>": 2})
    root = parse(svg)
    fills = [r.get("fill") for r in root.findall(f"{SVG}rect")]
    assert fills == ["#18753c", "#ce0500", "#000091"]
    assert "<script>" not in svg
    assert root.find(f"{SVG}desc").text == "atteint : 3; non atteint : 1; <script> : 2"


def test_empty_charts_say_so():
    for svg in (barres("Vide", [], [], []), courbe("Vide", [], {}), barres_horizontales("Vide", {})):
        assert parse(svg).find(f"{SVG}desc").text == "Aucune donnée."
