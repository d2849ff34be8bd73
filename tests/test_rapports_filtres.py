"""The documents' template filters: French typography and numbers, escaping kept."""

from decimal import Decimal

from pilote_cus.rapports.templatetags.rapports_tags import cellule, css_chaine, euros, pct, typo

NNBSP, NBSP = "\u202f", "\u00a0"


def test_typo_espaces_fines_et_apostrophe() -> None:
    out = typo("Programme d'actions : réhabiliter ; vendre ! « oui » ?")
    assert out == (
        f"<p>Programme d&#x27;actions{NBSP}: réhabiliter{NNBSP}; vendre{NNBSP}! «{NNBSP}oui{NNBSP}»{NNBSP}?</p>"
    )


def test_typo_echappe_le_html_et_garde_les_paragraphes() -> None:
    out = typo("<script>alert(1)</script>\nligne 2\n\nsecond")
    assert out == "<p>&lt;script&gt;alert(1)&lt;/script&gt;<br>ligne 2</p><p>second</p>"


def test_nombres_a_la_francaise() -> None:
    assert cellule(12345) == f"12{NNBSP}345"
    assert cellule(45.25) == "45,2"
    assert cellule(None) == "—"
    assert cellule(True) == "oui"
    assert euros(Decimal("1380.5"), 2) == f"1{NNBSP}380,50{NBSP}€"
    assert pct(81.25) == f"81,2{NNBSP}%"


def test_chaine_css_neutralise_style() -> None:
    assert css_chaine('a "b" </style>\\') == 'a \\"b\\" \\3c /style>\\\\'
