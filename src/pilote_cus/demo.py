"""`cus demo`: a synthetic landlord taken through the real path, from its RPLS file to the reports."""

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from rich.table import Table

from .cli_indicateurs import format_value, results_table
from .entrepot.entrepot import Warehouse
from .evenements.import_evenements import import_events
from .exports import write_table
from .indicateurs.catalogue import catalogue
from .indicateurs.evaluation import evaluate
from .indicateurs.objectifs import (
    Objective,
    attach_objectives,
    indicator_of,
    load_objectives,
    save_objectives,
    write_template,
)
from .indicateurs.objectifs_synthetiques import synthetic_objectives
from .indicateurs.service import OUTPUT_COLUMNS, compute
from .patrimoine import etat_des_lieux
from .patrimoine.historique import generate_history
from .patrimoine.import_rpls import import_rpls
from .progression import Steps, console, number

FIRST_YEAR, YEARS = 2019, 6  # a second-generation CUS: 2019-2024


def _summary(table_rows: list[dict], vintage: int) -> Table:
    table = Table(
        title=f"État des lieux au 1er janvier {vintage} par département (données synthétiques)",
        title_justify="left",
    )
    columns = [
        ("logements", "total", "logements", "nombre"),
        ("type_construction", "collectif", "% collectif", "part"),
        ("qpv", "qpv", "% en QPV", "part"),
        ("dpe_energie", "E-F-G", "% DPE E-F-G", "part"),
        ("loyer_m2", "moyen", "loyer €/m²", "nombre"),
        ("vacance", "taux", "vacance %", "part"),
        ("mobilite", "taux", "mobilité %", "part"),
    ]
    table.add_column("département")
    for _, _, label, _ in columns:
        table.add_column(label, justify="right")
    by_code: dict[tuple[str, str], dict] = {}
    for row in table_rows:
        by_code.setdefault((row["code"], row["libelle"] or ""), {})[(row["variable"], row["modalite"])] = row
    for (code, label), values in by_code.items():
        cells = []
        for variable, modality, _, key in columns:
            value = values.get((variable, modality), {}).get(key)
            cells.append(
                ""
                if value is None
                else f"{number(value)}"
                if key == "nombre" and variable == "logements"
                else f"{value:.2f}"
            )
        table.add_row(f"{code} {label}", *cells)
    return table


def run_demo(root: Path, dwellings: int, seed: int, serve: bool, port: int = 8000) -> int:
    """Six years of a synthetic landlord through the real path: files, imports, indicators, evaluation."""
    warehouse = Warehouse(root)
    reports = root / "rapports"
    reports.mkdir(parents=True, exist_ok=True)
    inputs = root / "entrees"
    console.print(f"[bold]Pilote CUS — démonstration[/] (dossier de travail : {root})")
    with Steps() as steps:
        with steps.step("Génération du bailleur synthétique (6 ans d'historique)", 100) as advance:
            history = generate_history(inputs, dwellings, seed, first_year=FIRST_YEAR, years=YEARS, progress=advance)
        for vintage, path in sorted(history.rpls_files.items()):
            import_rpls(path, warehouse, vintage=vintage, steps=steps)
        for name, path in history.event_files.items():
            import_events(warehouse, name, path, steps=steps)
    landlord = history.landlords[0]
    first, last = min(history.dwellings), max(history.dwellings)
    console.print(
        f"Bailleur synthétique : {landlord.raison_sociale} (SIRET {landlord.siret}) ; "
        f"{number(history.dwellings[first])} logements au 1er janvier {first}, "
        f"{number(history.dwellings[last])} au 1er janvier {last} ; "
        f"{number(sum(history.event_rows.values()))} lignes d'événements importées."
    )
    written = _etat_des_lieux(warehouse, reports, last)
    indicator_reports, objectives = _indicators(warehouse, reports, seed)
    for path in written + indicator_reports:
        console.print(f"Rapport : {path}")
    _application(root, warehouse, landlord.siret, landlord.raison_sociale, objectives, serve, port)
    return 0


def _application(
    root: Path, warehouse: Warehouse, code: str, name: str, objectives: list[Objective], serve: bool, port: int
) -> None:
    """The application database: results published from the warehouse, conventions, one account per role."""
    from .web.serveur import prepare

    prepare(str(root))
    from .tableaux.publication import publier
    from .web.peuplement import peupler

    with Steps() as steps, steps.step("Publication des résultats dans l'application web", 100) as advance:
        publication = publier(warehouse, progress=advance)
    by_code = catalogue().by_code()
    second = [o for o in objectives if (found := indicator_of(o.code, by_code)) and found[0].generation == 2]
    accounts = peupler(warehouse, code, name, second, FIRST_YEAR, YEARS)
    console.print(
        f"Application web : {number(publication.resultats)} résultats publiés en {publication.duree_s:.1f} s "
        f"depuis {len(publication.instantanes.split())} instantanés de l'entrepôt."
    )
    table = Table(
        title="Comptes de démonstration (mots de passe tirés au hasard à chaque lancement)", title_justify="left"
    )
    for column in ("rôle", "identifiant", "mot de passe", "périmètre"):
        table.add_column(column)
    for account in accounts:
        table.add_row(account.role, account.identifiant, account.mot_de_passe, account.perimetre)
    for path in _documents(root, code):
        console.print(f"Document : {path}")
    console.print(table)
    if serve:
        from .web.serveur import serve as run_server

        run_server("127.0.0.1", port, workers=2, threads=4)
    else:
        console.print(f"Pour servir l'application : cus serveur --data-dir {root}")


def _documents(root: Path, code: str) -> list[Path]:
    """The finished documents of the signed 2019-2024 convention and the regional synthesis, in PDF."""
    from .comptes.models import Utilisateur
    from .rapports.bilan import bilan, evaluation
    from .rapports.convention import construire
    from .rapports.rendu import document_pdf
    from .rapports.selection import convention_choisie, ecrire
    from .rapports.synthese import choisir_region
    from .rapports.synthese import produire as synthese

    convention = convention_choisie(argparse.Namespace(convention=None, organisme=code))
    last = FIRST_YEAR + YEARS - 1
    written = []
    with Steps() as steps, steps.step("Documents : convention, bilan, évaluation, synthèse régionale", 4) as advance:
        written.append(ecrire(root / "rapports" / "convention-2019-2024.pdf", document_pdf(construire(convention))))
        advance(1)
        written.append(ecrire(root / "rapports" / f"bilan-{last}.pdf", bilan(convention, last, "pdf")[1]))
        advance(1)
        written.append(ecrire(root / "rapports" / "evaluation-3-ans.pdf", evaluation(convention, 3, "pdf")[1]))
        advance(1)
        # the region of the demo's regional State account (that of the landlord's main département)
        dreal = Utilisateur.objects.filter(username="etat-dreal").values_list("region", flat=True).first()
        _, content = synthese(dreal or choisir_region(None), 2, "pdf")
        written.append(ecrire(root / "rapports" / "synthese-regionale.pdf", content))
        advance(1)
    return written


def _etat_des_lieux(warehouse: Warehouse, reports: Path, vintage: int) -> list[Path]:
    result = etat_des_lieux.compute(warehouse, vintage=vintage)
    metadata = {
        "instantané": result.snapshot.id,
        "géographie": result.geography,
        "avertissement": "données synthétiques, non réelles",
    }
    written = [
        write_table(result.table, fmt, reports / f"etat-des-lieux-{vintage}.{fmt}", "État des lieux", metadata)
        for fmt in ("xlsx", "csv", "json")
    ]
    departements = [r for r in result.table.to_pylist() if r["maille"] == "departement"]
    console.print(_summary(departements, vintage))
    return [p for p in written if p]


def _indicators(warehouse: Warehouse, reports: Path, seed: int) -> tuple[list[Path], list[Objective]]:
    """Both generations of indicators, synthetic objectives, the workbook and the two evaluations."""
    cat = catalogue()
    mailles = ["bailleur", "departement", "epci"]
    yearly = {g: compute(warehouse, generation=g, mailles=mailles) for g in (1, 2)}
    cumulated = {g: compute(warehouse, generation=g, mailles=mailles, cumul=YEARS) for g in (1, 2)}
    mid = {g: compute(warehouse, generation=g, mailles=mailles, cumul=3) for g in (1, 2)}
    objectives = []
    for g in (1, 2):
        objectives += synthetic_objectives(cat, yearly[g].rows, mid[g].rows + cumulated[g].rows, FIRST_YEAR, seed)
    save_objectives(warehouse, objectives, {"origine": "objectifs synthétiques de la démonstration"})
    signed = load_objectives(warehouse)
    written: list[Path] = []
    last = str(FIRST_YEAR + YEARS - 1)
    for g in (1, 2):
        rows = yearly[g].rows + cumulated[g].rows + mid[g].rows
        attach_objectives(rows, signed, cat.by_code())  # the results computed above, now with their statuses
        path = reports / f"indicateurs-generation-{g}.xlsx"
        metadata = {"catalogue": cat.version, "avertissement": "données et objectifs synthétiques, non réels"}
        write_table(results_table(rows, OUTPUT_COLUMNS), "xlsx", path, "Indicateurs", metadata)
        write_table(results_table(rows, OUTPUT_COLUMNS), "csv", path.with_suffix(".csv"), "Indicateurs", metadata)
        written += [path, path.with_suffix(".csv")]
        console.print(_status_table(g, rows, last))
        for note in yearly[g].notes:
            console.print(f"[yellow]Remarque[/] : {note}")
    template = reports / "engagements-generation-2.xlsx"
    territories = sorted(
        {("departement", r["code_territoire"]) for r in yearly[2].rows if r["maille"] == "departement"}
    )
    territories += sorted({("epci", r["code_territoire"]) for r in yearly[2].rows if r["maille"] == "epci"})
    write_template(
        template,
        cat,
        2,
        [("bailleur", r) for r in sorted({r["code_territoire"] for r in yearly[2].rows if r["maille"] == "bailleur"})]
        + territories,
        FIRST_YEAR,
        {(o.code, o.maille, o.code_territoire, o.periode): o.objectif for o in objectives},
        yearly[2].rows,
        title="Convention d'utilité sociale — engagements (données synthétiques)",
        source={"catalogue": cat.version},
    )
    written.append(template)
    for horizon in (3, 6):
        evaluation = evaluate(warehouse, generation=2, horizon=horizon, tfpb_exemption=0.0)
        path = reports / f"evaluation-{horizon}-ans.xlsx"
        metadata = {"période": evaluation.period.label, **evaluation.summary_text()}
        write_table(results_table(evaluation.rows, evaluation.columns), "xlsx", path, "Évaluation", metadata)
        written.append(path)
        summary = evaluation.summary_text()
        label = "Bilan à 3 ans" if horizon == 3 else "Évaluation finale à 6 ans"
        console.print(
            f"[bold]{label}[/] ({evaluation.period.label}, génération 2) : {summary['engagements évalués']} "
            f"engagements évalués, {summary['engagements atteints']} atteints, "
            f"{summary['partiellement atteints']} partiellement, {summary['non atteints']} non atteints ; "
            f"pénalité maximale {summary.get('pénalité maximale', '—')}."
        )
    return written, objectives


def _status_table(generation: int, rows: list[dict[str, Any]], year: str) -> Table:
    """Per engagement: the landlord's value for the last year and the statuses over its territories."""
    table = Table(
        title=f"Indicateurs de génération {generation} — {year} (objectifs synthétiques)", title_justify="left"
    )
    for name in ("code", "indicateur", "bailleur", "territoires atteints", "partiellement", "non atteints"):
        table.add_column(name, justify="left" if name in ("code", "indicateur") else "right")
    order: list[str] = []
    landlord: dict[str, str] = {}
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        code = row["code"]
        if code != row.get("_indicateur", code):  # ventilations are in the workbook, not on screen
            continue
        if code not in order:
            order.append(code)
        if row["maille"] == "bailleur" and row["periode"] in (year, f"{FIRST_YEAR}-{year}"):
            landlord[code] = format_value(row["valeur"], row["unite"])
        if row["statut"] and row["periode"] in (year, f"{FIRST_YEAR}-{year}"):
            counts.setdefault(code, Counter())[row["statut"]] += 1
    for code in order:
        c = counts.get(code, Counter())
        label = next(r["libelle"] for r in rows if r["code"] == code)
        flag = " ⚠" if next(r["certitude"] for r in rows if r["code"] == code) == "à confirmer" else ""
        table.add_row(
            code,
            label + flag,
            landlord.get(code, "—"),
            f"[green]{c['atteint']}[/]" if c else "",
            f"[yellow]{c['partiellement atteint']}[/]" if c else "",
            f"[red]{c['non atteint']}[/]" if c else "",
        )
    return table
