"""The landlords' documentation of each event file, generated from its schema and the error catalogue.

Regenerate with: python -m pilote_cus.evenements.documentation docs/formats
(a test checks that the committed files are up to date, and that each example line imports).
"""

import sys
from pathlib import Path

from ..imports.erreurs import catalogue
from .controles import DATE_ORDER, ERROR_CODES, FIRST_DATE, FIRST_YEAR, LAST_DATE, LAST_YEAR
from .lecture import DELIMITERS
from .schema import EventColumn, EventSchema, event_schemas

_TYPES = {
    "texte": "texte",
    "entier": "nombre entier",
    "decimal": "nombre (virgule ou point)",
    "annee": "année aaaa",
    "date": "date aaaa-mm-jj ou jj/mm/aaaa",
    "booleen": "oui/non",
    "code": "code",
    "commune": "code commune COG",
    "departement": "code département",
}


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _controls(c: EventColumn, schema: EventSchema) -> str:
    parts = []
    if c.codes:
        parts.append("codes " + ", ".join(f"`{code}`" for code in c.codes))
    low = c.minimum if c.minimum is not None else (FIRST_YEAR if c.type == "annee" else None)
    high = c.maximum if c.maximum is not None else (LAST_YEAR if c.type == "annee" else None)
    if low is not None and high is not None:
        parts.append(f"de {_number(low)} à {_number(high)}")
    elif low is not None:
        parts.append(f"≥ {_number(low)}")
    elif high is not None:
        parts.append(f"≤ {_number(high)}")
    if c.type == "date":
        parts.append(f"de {FIRST_DATE[:4]} à {LAST_DATE[:4]}")
    if c.longueur_max:
        parts.append(f"≤ {c.longueur_max} caractères")
    parts += [f"≥ `{earlier}`" for earlier, later in DATE_ORDER.get(schema.nom, ()) if later == c.nom]
    if c.nom in schema.cle:
        parts.append("fait partie de la clé")
    return " ; ".join(parts)


_EXAMPLES = {"organisme": "12345678901234", "ident_rep": "0000123456", "segment": "COLLECTIF-QPV"}


def example_value(c: EventColumn, schema: EventSchema) -> str:
    """A value every check accepts, to show the expected writing (both date writings are shown)."""
    if c.nom in _EXAMPLES and c.type == "texte":
        return _EXAMPLES[c.nom][: c.longueur_max or None]
    if c.type == "date" and c.nom == schema.date_reference:
        return "2024-03-31"
    low = c.minimum if c.minimum is not None else 0
    high = c.maximum if c.maximum is not None else float("inf")
    if c.type == "entier":
        return str(int(min(max(low, 1), high)))
    if c.type == "decimal":
        return "12,5" if low <= 12.5 <= high else _number(low)
    return {
        "texte": "A-2024-0001"[: c.longueur_max or None],
        "annee": "2024",
        "date": "31/03/2024",
        "booleen": "oui",
        "code": c.codes[0] if c.codes else "",
        "commune": "69123",
        "departement": "69",
    }[c.type]


def example_lines(schema: EventSchema) -> list[str]:
    return [";".join(c.nom for c in schema.colonnes), ";".join(example_value(c, schema) for c in schema.colonnes)]


def _years(schema: EventSchema) -> str:
    if schema.nature == "registre":
        return "Ce fichier est un **registre** : chaque import remplace le registre entier."
    return (
        f"L'année d'une ligne est celle de `{schema.date_reference}`. Un import remplace, **pour les années qu'il "
        "couvre**, les imports précédents ; les autres années sont conservées. Pour corriger une année, importez "
        "un fichier qui la contient en entier."
    )


def _rules(schema: EventSchema) -> str:
    lines = []
    if schema.cle:
        keys = ", ".join(f"`{n}`" for n in schema.cle)
        lines.append(f"- Unicité : une même combinaison de {keys} n'apparaît qu'une fois dans le fichier.\n")
    for earlier, later in DATE_ORDER.get(schema.nom, ()):
        lines.append(f"- Cohérence : `{later}`, quand elle est renseignée, n'est pas antérieure à `{earlier}`.\n")
    return "".join(lines)


_FILE = """## Le fichier

- **CSV** : une ligne d'en-tête avec les noms de colonnes ci-dessous, dans n'importe quel ordre (majuscules
  ou minuscules indifférentes, espaces autour du nom ignorés), puis une ligne par enregistrement.
  Séparateur : {delimiters}, reconnu d'après l'en-tête ; guillemets `"` facultatifs ;
  encodage UTF-8 (avec ou sans BOM), Latin-1 (ISO-8859-1) ou Windows-1252, détecté.
- **Classeur XLSX** : la feuille nommée `{nom}` si elle existe, sinon la première ; l'en-tête est sa première
  ligne non vide, les lignes vides sont ignorées. Les cellules de date, de nombre et VRAI/FAUX sont converties
  (un code commune ou département saisi comme nombre retrouve son zéro initial : 1001 → 01001) ; les numéros
  de ligne du rapport sont ceux d'Excel. Les classeurs XLS (Excel 97-2003), ODS et protégés par un mot de
  passe ne sont pas acceptés : enregistrez-les en XLSX ou en CSV.
- Les colonnes inconnues sont ignorées (non importées), signalées à l'écran et notées dans la provenance de
  l'import. Une colonne facultative absente est vide sur toutes les lignes.
- Écriture des valeurs (non débarrassées de leurs espaces) : dates `aaaa-mm-jj` ou `jj/mm/aaaa` ; oui/non
  `1`/`0`, `oui`/`non`, `o`/`n`, `vrai`/`faux`, `true`/`false` (majuscules ou minuscules indifférentes) ;
  nombres avec virgule ou point décimal, sans séparateur de milliers ni unité ; codes en majuscules ou
  minuscules.
- Communes : 5 caractères du Code officiel géographique ; si un COG est chargé (`cus referentiel cog`), chaque
  code doit exister dans l'un des COG chargés (les événements couvrent plusieurs années).
{rules}- {years}

Un fichier qui contient une seule erreur n'est pas importé ; le rapport CSV (séparateur `;`, UTF-8 avec BOM,
colonnes `fichier;ligne;colonne;valeur;code;message`) les liste toutes.
"""


def event_format_doc(schema: EventSchema) -> str:
    description = " ".join(schema.description.split())
    lines = [
        f"# Fichier « {schema.libelle} » (`{schema.nom}`)\n\n",
        f"Ce document est destiné aux bailleurs : il dit quel fichier `cus importer {schema.nom} FICHIER` accepte,\n"
        "comment chaque colonne est contrôlée et quelles erreurs peuvent être signalées. Il est produit à partir de\n"
        f"la déclaration `src/pilote_cus/evenements/schemas/{schema.nom}.toml` et du catalogue des erreurs.\n\n",
        f"{description}\n\n",
        _FILE.format(
            delimiters=", ".join(f"{name} (`{d}`)" if d != "\t" else name for d, name in DELIMITERS.items()),
            nom=schema.nom,
            rules=_rules(schema),
            years=_years(schema),
        ),
        "\n## Colonnes\n\n| colonne | type | obligatoire | contrôle | libellé |\n|---|---|---|---|---|\n",
    ]
    for c in schema.colonnes:
        required = "oui" if c.obligatoire else "non"
        lines.append(f"| `{c.nom}` | {_TYPES[c.type]} | {required} | {_controls(c, schema)} | {c.libelle} |\n")
    lines.append("\n## Exemple\n\n```csv\n" + "\n".join(example_lines(schema)) + "\n```\n")
    lines.append("\n## Erreurs possibles\n\n| code | titre | explication |\n|---|---|---|\n")
    errors = catalogue()
    lines += [f"| `{code}` | {errors[code].titre} | {errors[code].explication} |\n" for code in ERROR_CODES]
    return "".join(lines)


def write_docs(folder: Path) -> list[Path]:
    written = []
    for schema in event_schemas().values():
        path = folder / f"{schema.nom}.md"
        path.write_text(event_format_doc(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_docs(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/formats")):
        print(path)
