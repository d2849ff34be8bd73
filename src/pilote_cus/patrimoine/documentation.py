"""The landlords' documentation of the RPLS format, generated from the schema and the error catalogue.

Regenerate with: python -m pilote_cus.patrimoine.documentation > docs/formats/rpls.md
(a test checks that the committed file is up to date).
"""

from ..imports.erreurs import catalogue
from .schema import Column, rpls_schema

_TYPES = {
    "texte": "texte",
    "entier": "nombre entier",
    "decimal": "nombre (virgule ou point)",
    "annee": "année aaaa",
    "mois_annee": "mois/année mm/aaaa",
    "code": "code",
    "commune": "code commune COG",
    "qpv": "1, 2 ou code QPV",
}

_INTRO = """# Le fichier RPLS attendu par Pilote CUS

Ce document est destiné aux bailleurs : il dit quels fichiers `cus importer rpls` accepte, comment chaque
colonne est contrôlée et quelles erreurs peuvent être signalées. Il est produit à partir de la déclaration
`src/pilote_cus/patrimoine/rpls_schema.toml` et du catalogue des erreurs.

Sources : arrêté du 5 janvier 2010 (fichier de transmission), fichiers « données détaillées au logement »
du SDES (open data), CCH L.411-10 et R.411-3. Voir aussi `shared/domain/RPLS.md`.

## Deux dispositions acceptées

1. **Fichier de transmission** : une première ligne décrit le bailleur, six champs séparés par `;` :
   année d'enquête ; numéro de l'organisme ; raison sociale ; adresse ; SIRET (14 chiffres) ; nombre
   d'enregistrements. Puis une ligne par logement, {fields} champs dans l'ordre des positions ci-dessous
   (les positions non documentées sont conservées sous le nom `champ_NN`). Le millésime est l'année d'enquête.
2. **Fichier open data** : une ligne d'en-tête avec les noms de colonnes ci-dessous, dans n'importe quel ordre.
   Les colonnes inconnues sont acceptées et conservées (en minuscules) ; les colonnes facultatives absentes
   sont tolérées. Le millésime est pris dans le nom du fichier (`…2024…`) ou donné par `--millesime`.

Séparateur `;` ; guillemets `"` facultatifs ; encodage UTF-8 (avec ou sans BOM), Latin-1 (ISO-8859-1) ou
Windows-1252, détecté ; fins de ligne Unix ou Windows. Les valeurs ne sont pas débarrassées de leurs espaces.

Le parc au 1er janvier exclut les logements sortis en N-1 (`SORTIEPATRIM` renseigné et différent de 9).

## Colonnes

| colonne | position | type | obligatoire | contrôle | libellé |
|---|---|---|---|---|---|
"""

_ERRORS = """
Avec un COG chargé (`cus referentiel cog`), chaque `DEPCOM` doit exister dans le COG du millésime.

## Erreurs possibles

Un fichier qui contient une seule erreur n'est pas importé ; le rapport CSV (séparateur `;`, UTF-8 avec BOM,
colonnes `fichier;ligne;colonne;valeur;code;message`) les liste toutes.

| code | titre | explication |
|---|---|---|
"""


def _controls(c: Column) -> str:
    parts = []
    if c.codes:
        parts.append("codes " + ", ".join(c.codes))
    if c.minimum is not None and c.maximum is not None:
        parts.append(f"de {c.minimum:g} à {c.maximum:g}")
    if c.longueur_max:
        parts.append(f"≤ {c.longueur_max} caractères")
    if c.type == "annee":
        parts.append("1600 ≤ année ≤ millésime")
    if c.type == "mois_annee":
        parts.append("de 01/1900 à 01/millésime")
    if c.non_applicable:
        parts.append("sans objet : " + ", ".join(c.non_applicable))
    if c.unique:
        parts.append("unique dans le fichier")
    return " ; ".join(parts)


def rpls_format_doc() -> str:
    schema = rpls_schema()
    lines = [_INTRO.replace("{fields}", str(schema.nombre_champs_transmission))]
    for c in schema.colonnes:
        required = "colonne et valeur" if c.valeur_obligatoire else ("colonne" if c.colonne_obligatoire else "non")
        lines.append(
            f"| `{c.nom}` | {c.position or '—'} | {_TYPES[c.type]} | {required} | {_controls(c)} | {c.libelle} |\n"
        )
    lines.append(_ERRORS)
    lines += [f"| `{e.code}` | {e.titre} | {e.explication} |\n" for e in catalogue().values()]
    return "".join(lines)


if __name__ == "__main__":
    print(rpls_format_doc(), end="")
