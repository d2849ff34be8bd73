"""`cus indicateurs`, `cus objectifs …`, `cus evaluation`: the CUS follow-up from the command line."""

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.table import Table

from . import __version__
from .config import data_dir
from .entrepot.entrepot import Warehouse
from .exports import FORMATS, write_table
from .indicateurs.catalogue import MAILLES, catalogue
from .indicateurs.evaluation import evaluate
from .indicateurs.moteur import NoData, sql_in, stock_snapshots
from .indicateurs.objectifs import load_objectives, read_template, save_objectives, write_template
from .indicateurs.service import OUTPUT_COLUMNS, compute
from .progression import console, number


def _warehouse(args: argparse.Namespace) -> Warehouse:
    return Warehouse(data_dir(args.data_dir))


def results_table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pa.Table:
    return pa.table({c: [_rounded(c, r.get(c)) for r in rows] for c in columns})


def _rounded(column: str, value: Any) -> Any:
    if column in ("valeur", "ecart") and isinstance(value, float):
        return round(value, 4)
    return value


def format_value(value: float | None, unit: str) -> str:
    """A value as people read it: 12,5 %, 1 234 logements, 1 170,0 € HT par logement."""
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.1f} %".replace(".", ",")
    if unit in ("logements", "places", "attributions"):
        return number(round(value))
    return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",") + f" {unit.replace(' par ', '/')}"


_STATUS_STYLE = {"atteint": "green", "partiellement atteint": "yellow", "non atteint": "red"}


def print_summary(rows: list[dict[str, Any]], title: str, limit: int = 60) -> None:
    table = Table(title=title, title_justify="left")
    for name in ("code", "indicateur", "territoire", "période", "numérateur", "dénominateur", "valeur", "objectif"):
        table.add_column(name, overflow="fold")
    table.add_column("statut")
    for r in rows[:limit]:
        style = _STATUS_STYLE.get(r["statut"], "")
        flag = " ⚠" if r["certitude"] == "à confirmer" else ""
        table.add_row(
            r["code"],
            r["libelle"] + flag,
            f"{r['maille']} {r['code_territoire']}",
            r["periode"],
            number(round(r["numerateur"])) if r["numerateur"] is not None else "—",
            number(round(r["denominateur"])) if r["denominateur"] is not None else "",
            format_value(r["valeur"], r["unite"]),
            format_value(r["objectif"], r["unite"]) if r["objectif"] is not None else "",
            f"[{style}]{r['statut']}[/]" if style else r["statut"],
        )
    console.print(table)
    if len(rows) > limit:
        console.print(f"… {number(len(rows) - limit)} lignes de plus dans le fichier de sortie.")
    if any(r["certitude"] == "à confirmer" for r in rows[:limit]):
        console.print("⚠ définition à confirmer (voir la colonne certitude et le catalogue).")


def cmd_indicateurs(args: argparse.Namespace) -> int:
    mailles = list(MAILLES) if "toutes" in args.maille else list(dict.fromkeys(args.maille))
    results = compute(
        _warehouse(args),
        generation=args.generation,
        mailles=mailles,
        annee=args.annee,
        cumul=args.cumul,
        debut=args.debut,
        organismes=args.organisme or (),
        codes=args.code or (),
        engine=args.moteur,
    )
    metadata = {
        "catalogue": results.catalogue_version,
        "moteur": results.engine,
        "géographie": results.plan.sources.geography,
        "produit par": f"pilote-cus {__version__}",
        "remarques": " | ".join(results.notes),
    }
    output = Path(args.sortie) if args.sortie else None
    if args.format == "xlsx" and output is None:
        output = Path(f"indicateurs-generation-{args.generation}.xlsx")
    table = results_table(results.rows, OUTPUT_COLUMNS)
    if output is None:
        write_table(table, args.format, None, "Indicateurs", metadata)
        return 0
    written = write_table(table, args.format, output, "Indicateurs", metadata)
    print_summary(
        [r for r in results.rows if r["maille"] == mailles[0]], f"Indicateurs CUS — génération {args.generation}"
    )
    for note in results.notes:
        console.print(f"[yellow]Remarque[/] : {note}")
    console.print(
        f"Écrit : {written} ({number(len(results.rows))} lignes, calculées en {results.seconds:.2f} s "
        f"par {results.engine})."
    )
    return 0


def _territories(warehouse: Warehouse, args: argparse.Namespace) -> list[tuple[str, str]]:
    """Territories of the template: the landlord, and its départements and EPCI in the latest RPLS."""
    import duckdb

    vintages = stock_snapshots(warehouse)
    if not vintages:
        raise NoData("Aucun RPLS dans l'entrepôt : importez-en un avant de préparer les engagements.")
    path = vintages[max(vintages)].table("logements")
    con = duckdb.connect()
    try:
        where = "en_stock"
        if args.organisme:
            where += f" AND organisme_id IN {sql_in(args.organisme)}"
        found: list[tuple[str, str]] = []
        for maille, column in (("bailleur", "organisme_id"), ("departement", "departement")):
            sql = f"SELECT DISTINCT {column} FROM read_parquet('{path}') WHERE {where} AND {column} IS NOT NULL"
            values = con.execute(sql + " ORDER BY 1").fetchall()
            found += [(maille, v[0]) for v in values]
        return found
    finally:
        con.close()


def cmd_objectifs_modele(args: argparse.Namespace) -> int:
    warehouse = _warehouse(args)
    cat = catalogue()
    objectives = load_objectives(warehouse)
    vintages = sorted(stock_snapshots(warehouse))
    first = args.debut or (vintages[0] if vintages else 2019)
    results = compute(
        warehouse, generation=args.generation, mailles=["bailleur", "departement", "epci"], debut=first
    ).rows
    output = Path(args.sortie)
    write_template(
        output,
        cat,
        args.generation,
        _territories(warehouse, args),
        first,
        objectives,
        results,
        source={"catalogue": cat.version, "produit par": f"pilote-cus {__version__}"},
    )
    console.print(
        f"Modèle d'engagements écrit : {output} (génération {args.generation}, convention à partir de {first}, "
        f"{number(len(objectives))} objectifs déjà saisis, {number(len(results))} résultats réalisés)."
    )
    return 0


def cmd_objectifs_importer(args: argparse.Namespace) -> int:
    path = Path(args.fichier)
    objectives = read_template(path, catalogue())
    snapshot_id = save_objectives(_warehouse(args), objectives, {"fichier": path.name})
    console.print(f"[green]Objectifs importés[/] : {number(len(objectives))} objectifs (instantané {snapshot_id}).")
    return 0


def cmd_evaluation(args: argparse.Namespace) -> int:
    evaluation = evaluate(
        _warehouse(args),
        generation=args.generation,
        horizon=args.horizon,
        debut=args.debut,
        organismes=args.organisme or (),
        tfpb_exemption=args.exoneration_tfpb,
    )
    output = Path(args.sortie) if args.sortie else None
    if args.format == "xlsx" and output is None:
        output = Path(f"evaluation-{args.horizon}-ans.xlsx")
    metadata = {"période": evaluation.period.label, "produit par": f"pilote-cus {__version__}"}
    metadata.update(evaluation.summary_text())
    table = results_table(evaluation.rows, evaluation.columns)
    if output is None:
        write_table(table, args.format, None, "Évaluation", metadata)
        return 0
    write_table(table, args.format, output, "Évaluation", metadata)
    label = "bilan à mi-parcours (3 ans)" if args.horizon == 3 else "évaluation finale (6 ans)"
    print_summary(evaluation.rows, f"Évaluation de la CUS — {label}, {evaluation.period.label}", limit=40)
    counts = Counter(r["statut"] for r in evaluation.rows)
    console.print(
        "Engagements : "
        + ", ".join(f"{number(counts[s])} {s}" for s in ("atteint", "partiellement atteint", "non atteint"))
        + (f", {number(counts['non calculable'])} non calculable(s)" if counts["non calculable"] else "")
        + "."
    )
    for key, value in evaluation.summary_text().items():
        console.print(f"{key} : {value}")
    for note in evaluation.notes:
        console.print(f"[yellow]Remarque[/] : {note}")
    console.print(f"Écrit : {output}.")
    return 0


def add_commands(add: Any, common: argparse.ArgumentParser) -> None:
    """Declare the sub-commands on the main parser (`add` is cli.build_parser's helper)."""
    p = add("indicateurs", cmd_indicateurs, "indicateurs CUS (numérateur, dénominateur, valeur, objectif, statut)")
    p.add_argument("--generation", type=int, choices=[1, 2], required=True)
    p.add_argument("--annee", type=int, help="une année (par défaut : toutes les années de la convention)")
    p.add_argument("--cumul", type=int, choices=[3, 6], help="cumul sur 3 ou 6 ans (Σ numérateurs / Σ dénominateurs)")
    p.add_argument("--debut", type=int, help="première année de la convention (défaut : premier RPLS importé)")
    p.add_argument("--maille", action="append", required=True, choices=[*MAILLES, "toutes"])
    p.add_argument("--organisme", action="append", help="restreindre à un organisme (répétable)")
    p.add_argument("--code", action="append", help="restreindre à un indicateur (répétable)")
    p.add_argument("--moteur", choices=["duckdb", "spark"], default="duckdb")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--sortie", help="fichier de sortie (défaut : sortie standard pour csv et json)")

    p = add("objectifs", lambda a: 2, "objectifs signés : modèle tableur, import")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    model = sub.add_parser("modele", parents=[common], help="écrit le classeur des engagements (modèle ministériel)")
    model.set_defaults(handler=cmd_objectifs_modele)
    model.add_argument("--generation", type=int, choices=[1, 2], default=2)
    model.add_argument("--debut", type=int)
    model.add_argument("--organisme", action="append")
    model.add_argument("--sortie", required=True)
    load = sub.add_parser("importer", parents=[common], help="importe les objectifs saisis dans le classeur")
    load.set_defaults(handler=cmd_objectifs_importer)
    load.add_argument("fichier")
    load.add_argument("--rapport", help="chemin du rapport d'erreurs CSV")

    p = add("evaluation", cmd_evaluation, "évaluation à 3 ou 6 ans : réalisé, objectifs, écarts, pénalité maximale")
    p.add_argument("--horizon", type=int, choices=[3, 6], required=True)
    p.add_argument("--generation", type=int, choices=[1, 2], default=2)
    p.add_argument("--debut", type=int)
    p.add_argument("--organisme", action="append")
    p.add_argument("--exoneration-tfpb", type=float, default=0.0, help="exonération de TFPB de la dernière année (€)")
    p.add_argument("--format", choices=FORMATS, default="xlsx")
    p.add_argument("--sortie")
