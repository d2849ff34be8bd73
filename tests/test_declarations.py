from pathlib import Path

import pytest

from pilote_cus.patrimoine import etat_des_lieux
from pilote_cus.patrimoine.schema import SchemaError, parse_schema
from pilote_cus.verification import verify


def test_shipped_declarations_are_consistent():
    assert verify() == []


def test_schema_rejects_unknown_key_and_names_the_file():
    text = 'nombre_champs_transmission = 3\n[[colonnes]]\nnom = "A"\nlibelle = "a"\ntype = "texte"\nlongeur = 3\n'
    with pytest.raises(SchemaError, match=r"essai\.toml.*longeur"):
        parse_schema(text, "essai.toml")


def test_schema_rejects_code_column_without_codes():
    text = 'nombre_champs_transmission = 3\n[[colonnes]]\nnom = "A"\nlibelle = "a"\ntype = "code"\n'
    with pytest.raises(SchemaError, match="doit lister ses codes"):
        parse_schema(text, "essai.toml")


def test_unknown_column_in_a_breakdown_is_reported(monkeypatch):
    decl = etat_des_lieux.declaration()
    broken = decl.model_copy(
        update={
            "repartitions": (
                etat_des_lieux.Breakdown(
                    variable="essai",
                    modalites=(etat_des_lieux.Modality(code="x", condition="colonne_inexistante = 1"),),
                ),
            )
        }
    )
    monkeypatch.setattr(etat_des_lieux, "declaration", lambda: broken)
    problems = verify()
    assert len(problems) == 1
    assert "répartition essai, modalité x" in problems[0] and "colonne_inexistante" in problems[0]


def test_landlord_documentation_is_up_to_date():
    from pathlib import Path

    from pilote_cus.patrimoine.documentation import rpls_format_doc

    doc = (Path(__file__).parents[1] / "docs" / "formats" / "rpls.md").read_text(encoding="utf-8")
    assert doc == rpls_format_doc(), "régénérez : python -m pilote_cus.patrimoine.documentation > docs/formats/rpls.md"


def test_indicator_catalogue_documentation_is_up_to_date():
    from pilote_cus.indicateurs.catalogue import catalogue
    from pilote_cus.indicateurs.documentation import render

    doc = (Path(__file__).resolve().parents[1] / "docs" / "indicateurs.md").read_text(encoding="utf-8")
    assert doc == render(catalogue()), "régénérez : python -m pilote_cus.indicateurs.documentation docs/indicateurs.md"
