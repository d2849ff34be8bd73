"""The structure every document is built as, rendered the same way to HTML/PDF (template) and to DOCX.

A builder (convention, bilan, évaluation, synthèse) turns database and warehouse figures into a `Document`:
a cover, then parts (`Partie`, a new page each) holding blocks — headings, paragraphs, tables, SVG figures
(each with the table of its figures), framed notes and a signature block. The renderers know nothing of
conventions; the builders know nothing of HTML or Word.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

Alignement = Literal["texte", "nombre"]


@dataclass
class Titre:
    texte: str
    niveau: int = 3  # 3 or 4 (2 is the part's title)
    id: str = ""  # anchor for the table of contents (level 3 only)


@dataclass
class Paragraphe:
    texte: str  # plain text; blank lines separate paragraphs; French typography applied at rendering
    classe: str = ""  # "note" (small grey) or ""


@dataclass
class Tableau:
    legende: str  # caption, required (accessibility)
    colonnes: list[str]
    lignes: list[list[Any]]  # values already formatted as text, or numbers (formatted by the renderer)
    alignements: list[Alignement] = field(default_factory=list)  # per column; default: text
    classes: list[str] = field(default_factory=list)  # per row css class, e.g. "statut-non-atteint"
    note: str = ""


@dataclass
class Figure:
    svg: str  # from pilote_cus.graphiques: role="img", <title>, <desc>
    legende: str
    tableau: Tableau | None = None  # the same figures as a table (shown in DOCX instead of the chart if needed)


@dataclass
class Encadre:
    titre: str
    texte: str


@dataclass
class Signatures:
    signataires: list[dict[str, str]]  # nom, qualite, organisation, date ("" when not signed yet)
    lieu: str = ""


Bloc = Titre | Paragraphe | Tableau | Figure | Encadre | Signatures


@dataclass
class Partie:
    titre: str
    id: str
    blocs: list[Bloc] = field(default_factory=list)
    paysage: bool = False  # landscape pages for wide tables


@dataclass
class Document:
    titre: str
    sous_titre: str
    bandeau: str  # top line of the cover, e.g. "Convention d'utilité sociale 2025-2030"
    couverture: list[tuple[str, str]]  # (label, value) rows on the cover: parties, period, status…
    parties: list[Partie]
    provenance: str  # "Données : publication du …, catalogue …, instantanés …" on the cover and the last page
    date: str = ""  # ISO date the document is dated (from the data, never the clock: reproducible)
    auteur: str = "Pilote CUS"
    nom_fichier: str = "document"  # stem of the default output file

    def sommaire(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for partie in self.parties:
            entries.append({"id": partie.id, "titre": partie.titre, "niveau": 2})
            entries.extend(
                {"id": b.id, "titre": b.texte, "niveau": 3}
                for b in partie.blocs
                if isinstance(b, Titre) and b.niveau == 3 and b.id
            )
        return entries
