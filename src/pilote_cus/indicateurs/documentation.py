"""docs/indicateurs.md, generated from the catalogue (a test checks it is up to date)."""

from pathlib import Path

from .catalogue import CERTAINTY_LABELS, DIRECTION_LABELS, POLICY_LABELS, UNITS, Catalogue, Indicator, catalogue

_CUMUL = {
    "somme": "Σ numérateurs / Σ dénominateurs des années",
    "premiere_annee": "Σ numérateurs / dénominateur de la première année",
}


def _indicator(i: Indicator) -> list[str]:
    flag = " ⚠ à confirmer" if i.to_confirm else ""
    lines = [f"### {i.code} — {i.libelle}{flag}", "", i.definition, ""]
    rows = [
        ("Engagement", i.engagement),
        ("Numérateur", i.numerateur),
        ("Dénominateur", i.denominateur or "— (indicateur de volume)"),
        ("Unité", i.unite),
        ("Objectif fixé", "par année" if i.periode == "annuelle" else "en cumul à 3 et 6 ans"),
        ("Cumul", _CUMUL[i.cumul]),
        ("Déclinaison", ", ".join(i.declinaison)),
        ("Sens", f"{DIRECTION_LABELS[i.sens]} (tolérance « partiellement atteint » : {i.tolerance:.0%})"),
        ("Référence", i.reference),
        ("Certitude", CERTAINTY_LABELS[i.certitude]),
    ]
    if i.ventilations:
        shown = ", ".join(f"`{i.code}-{k}` {v}" for k, v in i.ventilations.items())
        rows.append(("Ventilations", shown + ("" if i.total else " (pas de total)")))
    if i.parent:
        rows.append(("Rattaché à", i.parent))
    if i.optionnel:
        rows.append(("Facultatif", "oui (article R.445-5-1)"))
    if i.note:
        rows.append(("Remarque", i.note))
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v.replace('|', '/')} |" for k, v in rows]
    lines += ["", "```sql", i.sql.strip(), "```", ""]
    return lines


def render(cat: Catalogue) -> str:
    lines = [
        "# Catalogue des indicateurs CUS",
        "",
        "<!-- Fichier généré depuis src/pilote_cus/indicateurs/catalogue/ : ne pas modifier à la main. -->",
        "",
        f"Version du catalogue : **{cat.version}**. Chaque indicateur est une déclaration "
        "(`catalogue/g1/*.toml`, `catalogue/g2/*.toml`) : corriger une définition ou ajouter une génération "
        "est un changement de données, vérifié au chargement (champs, unités, tables et colonnes lues par la "
        "requête).",
        "",
        "Règles communes : numérateur et dénominateur sont toujours conservés ; un taux cumulé est "
        "Σ numérateurs / Σ dénominateurs (jamais une moyenne de taux annuels) ; la valeur est le numérateur "
        "pour un volume, numérateur / dénominateur sinon (× 100 pour un pourcentage). Un indicateur n'est pas "
        "calculé pour une période si une table qu'il lit n'a pas de données pour l'une de ses années.",
        "",
        "Unités : " + " ; ".join(f"`{k}` {v}" for k, v in UNITS.items()) + ".",
        "",
        "Les requêtes lisent `parc` (le RPLS, une ligne par logement et par millésime, `annee` = millésime) "
        "et les tables d'événements décrites dans [formats](formats/).",
        "",
    ]
    for generation, title in ((1, "Première génération (décret 2009-1486)"), (2, "Deuxième génération (2019)")):
        lines += [f"## {title}", ""]
        lines += ["| code | indicateur | unité | déclinaison | certitude |", "|---|---|---|---|---|"]
        chosen = cat.generation(generation)
        for i in chosen:
            lines.append(
                f"| {i.code} | {i.libelle} | {i.unite} | {', '.join(i.declinaison)} | {CERTAINTY_LABELS[i.certitude]} |"
            )
        lines.append("")
        for policy, label in POLICY_LABELS.items():
            members = [i for i in chosen if i.politique == policy]
            if members:
                lines += [f"### {label}", ""]
                for i in members:
                    lines += ["#" + line if line.startswith("### ") else line for line in _indicator(i)]
    return "\n".join(lines).rstrip() + "\n"


def write(target: Path) -> Path:
    target.write_text(render(catalogue()), encoding="utf-8")
    return target


if __name__ == "__main__":  # python -m pilote_cus.indicateurs.documentation docs/indicateurs.md
    import sys

    print(write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/indicateurs.md")))
