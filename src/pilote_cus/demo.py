"""`cus demo`: a synthetic landlord taken through the real path, from its RPLS file to the reports."""

from pathlib import Path

from rich.table import Table

from .entrepot.entrepot import Warehouse
from .exports import write_table
from .patrimoine import etat_des_lieux
from .patrimoine.import_rpls import import_rpls
from .patrimoine.synthetique import generate_rpls
from .progression import Steps, console, number

VINTAGE = 2024


def _summary(table_rows: list[dict]) -> Table:
    table = Table(
        title=f"État des lieux au 1er janvier {VINTAGE} par département (données synthétiques)",
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


def run_demo(root: Path, dwellings: int, seed: int, serve: bool) -> int:
    warehouse = Warehouse(root)
    reports = root / "rapports"
    reports.mkdir(parents=True, exist_ok=True)
    source = root / "entrees" / f"rpls-transmission-{VINTAGE}-synthetique.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]Pilote CUS — démonstration[/] (dossier de travail : {root})")
    with Steps() as steps:
        with steps.step("Génération du bailleur synthétique", dwellings) as advance:
            generated = generate_rpls(source, dwellings, seed, vintage=VINTAGE, layout="transmission", progress=advance)
        imported = import_rpls(source, warehouse, steps=steps)
    landlord = generated.landlords[0]
    console.print(
        f"Bailleur synthétique : {landlord.raison_sociale} (n° {landlord.numero}), "
        f"{number(generated.ensembles)} ensembles immobiliers ; fichier RPLS de transmission {source.name}."
    )
    console.print(
        f"Import : {number(imported.dwellings)} logements au 1er janvier {VINTAGE} en {imported.seconds:.1f} s "
        f"(instantané {imported.snapshot.id})."
    )
    result = etat_des_lieux.compute(warehouse)
    metadata = {
        "instantané": result.snapshot.id,
        "géographie": result.geography,
        "avertissement": "données synthétiques, non réelles",
    }
    written = [
        write_table(result.table, fmt, reports / f"etat-des-lieux-{VINTAGE}.{fmt}", "État des lieux", metadata)
        for fmt in ("xlsx", "csv", "json")
    ]
    departements = [r for r in result.table.to_pylist() if r["maille"] == "departement"]
    console.print(_summary(departements))
    for path in written:
        console.print(f"Rapport : {path}")
    if serve:
        console.print(
            "[yellow]Application web[/] : pas encore livrée dans cette version "
            "(les tableaux de bord arrivent avec l'application Django) ; rien à servir."
        )
    return 0
