"""The `cus` command line. Thin: parsing, calling the business areas, printing in French."""

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.table import Table

from . import __version__
from .cli_fr import install as install_french
from .cli_indicateurs import add_commands as add_indicator_commands
from .cli_rapports import add_commands as add_report_commands
from .config import data_dir
from .declarations import DeclarationError
from .entrepot.entrepot import NoSnapshot, Warehouse
from .evenements.import_evenements import import_events
from .evenements.schema import EventSchema, event_schemas
from .exports import FORMATS, ExportError, write_table
from .geographie.referentiel import COG_URL, ReferenceDataError, load_cog
from .imports.erreurs import ErrorReport, ImportRejected, catalogue
from .indicateurs.moteur import NoData
from .patrimoine import etat_des_lieux
from .patrimoine.import_rpls import import_rpls
from .patrimoine.synthetique import MAX_DWELLINGS, MIN_DWELLINGS, generate_rpls
from .progression import Steps, console, number

EXIT_REJECTED, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 3


def _warehouse(args: argparse.Namespace) -> Warehouse:
    return Warehouse(data_dir(args.data_dir))


def print_report(report: ErrorReport, written: Path) -> None:
    console.print(
        f"[bold red]Fichier refusé : {report.file_name}[/] — {report.total} erreur(s), "
        "rien n'a été importé ; l'entrepôt est inchangé."
    )
    summary = Table(title="Erreurs par type", title_justify="left")
    for name in ("code", "titre", "nombre"):
        summary.add_column(name)
    types = catalogue()
    for code, count in report.counts.most_common():
        summary.add_row(code, types[code].titre, f"{number(count)}")
    console.print(summary)
    first = Table(title="Premières erreurs", title_justify="left")
    for name in ("ligne", "colonne", "valeur", "message"):
        first.add_column(name, overflow="fold")
    for a in report.sorted_anomalies()[:10]:
        first.add_row(str(a.line or ""), a.column or "", (a.value or "")[:40], a.message)
    console.print(first)
    console.print(f"Rapport complet : {written}")


def cmd_import_rpls(args: argparse.Namespace) -> int:
    warehouse = _warehouse(args)
    with Steps() as steps:
        result = import_rpls(
            Path(args.fichier), warehouse, vintage=args.millesime, organisme=args.organisme, steps=steps
        )
    s = result.snapshot
    console.print(
        f"[green]Import réussi[/] : {number(result.dwellings)} logements au 1er janvier {s.vintage} "
        f"({number(s.provenance['lignes'])} lignes) en {result.seconds:.1f} s."
    )
    console.print(f"Instantané {s.id} ; encodage {s.provenance['encodage']}, format {s.provenance['format']}.")
    if s.provenance["colonnes_inconnues_conservees"]:
        console.print(
            "Colonnes non documentées conservées : " + ", ".join(s.provenance["colonnes_inconnues_conservees"])
        )
    return 0


def cmd_import_events(args: argparse.Namespace) -> int:
    with Steps() as steps:
        result = import_events(_warehouse(args), args.type_fichier, Path(args.fichier), steps=steps)
    s = result.snapshot
    years = ", ".join(str(y) for y in result.years)
    covered = f" ; années {years} (remplacent les imports précédents de ces années)" if years else " ; registre complet"
    console.print(f"[green]Import réussi[/] : {number(result.rows)} lignes en {result.seconds:.1f} s{covered}.")
    console.print(f"Instantané {s.id} ; format {s.provenance['format']}, encodage {s.provenance['encodage']}.")
    if result.ignored_columns:
        console.print(
            "[yellow]Attention[/] : colonnes inconnues, ignorées (non importées) : " + ", ".join(result.ignored_columns)
        )
    return 0


def cmd_referentiel_cog(args: argparse.Namespace) -> int:
    snapshot = load_cog(_warehouse(args), Path(getattr(args, "from")), args.annee)
    console.print(
        f"[green]COG {snapshot.vintage} chargé[/] : {number(snapshot.provenance['communes'])} communes "
        f"et arrondissements ({snapshot.id})."
    )
    return 0


def _mailles(values: list[str]) -> tuple[str, ...]:
    if "toutes" in values:
        return etat_des_lieux.MAILLES
    return tuple(m for m in etat_des_lieux.MAILLES if m in values)


def cmd_etat_des_lieux(args: argparse.Namespace) -> int:
    result = etat_des_lieux.compute(_warehouse(args), _mailles(args.maille), args.millesime)
    s = result.snapshot
    metadata = {
        "instantané": s.id,
        "millésime": str(s.vintage),
        "fichier": s.provenance["fichier"],
        "sha256": s.provenance["sha256"],
        "géographie": result.geography,
        "produit par": f"pilote-cus {__version__}",
    }
    output = Path(args.sortie) if args.sortie else None
    if args.format == "xlsx" and output is None:
        output = Path(f"etat-des-lieux-{s.vintage}.xlsx")
    written = write_table(result.table, args.format, output, "État des lieux", metadata)
    console.print(
        f"État des lieux au 1er janvier {s.vintage} — source : {s.provenance['fichier']} "
        f"(instantané {s.id}) ; géographie : {result.geography}."
    )
    for note in result.notes:
        console.print(f"[yellow]Remarque[/] : {note}")
    if written:
        console.print(f"Écrit : {written} ({number(result.table.num_rows)} lignes).")
    return 0


def cmd_entrepot(args: argparse.Namespace) -> int:
    warehouse = _warehouse(args)
    table = Table(title=f"Instantanés de l'entrepôt {warehouse.root}", title_justify="left")
    for name in ("identifiant", "type", "millésime", "créé le", "fichier", "lignes", "courant"):
        table.add_column(name)
    for s in warehouse.history():
        current = warehouse.current(s.kind, s.vintage).id == s.id
        table.add_row(
            s.id,
            s.kind,
            str(s.vintage),
            s.created_at,
            s.provenance.get("fichier", s.provenance.get("dossier", "")),
            number(s.provenance.get("lignes", s.provenance.get("communes", 0))),
            "oui" if current else "",
        )
    console.print(table)
    return 0


def cmd_synthetique(args: argparse.Namespace) -> int:
    path = Path(args.sortie)
    with Steps() as steps, steps.step("Génération du bailleur synthétique", args.logements) as advance:
        summary = generate_rpls(
            path,
            args.logements,
            args.graine,
            vintage=args.millesime,
            layout="transmission" if args.format == "transmission" else "open data",
            encoding=args.encodage,
            landlords=args.organismes,
            progress=advance,
        )
    console.print(
        f"Écrit : {path} ({number(summary.dwellings)} logements, {number(summary.ensembles)} ensembles, "
        f"{len(summary.landlords)} organisme(s), millésime {summary.vintage})."
    )
    return 0


def cmd_verifier(args: argparse.Namespace) -> int:
    from .verification import verify

    problems = verify()
    for problem in problems:
        console.print(f"[red]✗[/] {problem}")
    if not problems:
        console.print(
            "Déclarations vérifiées : catalogue d'erreurs, schéma RPLS, état des lieux, schémas des fichiers "
            "d'événements, catalogue des indicateurs."
        )
    return 1 if problems else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(data_dir(args.data_dir), args.logements, args.graine, serve=not args.sans_serveur, port=args.port)


def cmd_referentiel_plafonds(args: argparse.Namespace) -> int:
    from .loyers.plafonds import install_ceilings

    target, ceilings = install_ceilings(Path(getattr(args, "from")), data_dir(args.data_dir))
    years = sorted({d.year for values in ceilings.series.values() for d, _ in values})
    console.print(f"[green]Plafonds de ressources chargés[/] ({years[0]}–{years[-1]}) : {target}")
    return 0


def cmd_classement(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from .classement.fichiers import detail_rows, ensemble_rows, read_ensembles, read_overrides
    from .classement.grille import load_grid, shipped_grid
    from .classement.references import ReferenceData
    from .classement.score import score

    grid = load_grid(Path(args.grille)) if args.grille else shipped_grid()
    references = ReferenceData()
    for loader, path in (
        (references.load_bpe, args.bpe),
        (references.load_stops, args.arrets),
        (references.load_qpv, args.qpv),
    ):
        if path:
            loader(Path(path))
    ensembles_rows, inline = read_ensembles(Path(args.ensembles))
    overrides = inline + (read_overrides(Path(args.forcages)) if args.forcages else [])
    scoring = score(ensembles_rows, grid, references, overrides)
    ensembles, details = ensemble_rows(scoring), detail_rows(scoring)
    metadata = {"grille": f"{grid.nom} (version {grid.version})", "produit par": f"pilote-cus {__version__}"}
    if args.format == "xlsx":
        target = Path(args.sortie or "classement.xlsx")
        write_table(pa.Table.from_pylist(ensembles), "xlsx", target, "Classement", metadata)
        write_table(
            pa.Table.from_pylist(details),
            "xlsx",
            target.with_name(target.stem + "-detail.xlsx"),
            "Détail des points",
            metadata,
        )
        console.print(f"Classement de {len(ensembles)} ensembles : {target} (détail : {target.stem}-detail.xlsx)")
        return 0
    rows = details if args.detail else ensembles
    written = write_table(
        pa.Table.from_pylist(rows), args.format, Path(args.sortie) if args.sortie else None, "Classement", metadata
    )
    if written:
        console.print(f"Classement de {len(ensembles)} ensembles : {written}")
    return 0


def cmd_sls(args: argparse.Namespace) -> int:
    from .loyers.plafonds import workspace_ceilings
    from .loyers.sls import SlsCase, as_dict, compute

    if args.ressources is None and not (args.sans_reponse or args.apl):
        raise ValueError("--ressources est obligatoire, sauf pour un ménage --sans-reponse ou --apl.")
    ceilings = workspace_ceilings(data_dir(args.data_dir), Path(args.plafonds) if args.plafonds else None)
    case = SlsCase(
        surface=args.surface,
        ressources=args.ressources or 0.0,
        categorie=args.categorie,
        zone_plafonds=args.zone_plafonds,
        zone_sls=args.zone_sls,
        financement=args.financement,
        annee=args.annee,
        loyer=args.loyer,
        qpv=args.qpv,
        zrr=args.zrr,
        exoneration_plh=args.exoneration_plh,
        cdpr_modulee=args.cdpr_modulee,
        apl=args.apl,
        sans_reponse=args.sans_reponse,
    )
    result = compute(case, ceilings)
    if args.format == "json":
        print(json.dumps(as_dict(result), ensure_ascii=False, indent=2))
        return 0
    table = Table(title=f"Supplément de loyer de solidarité — {args.annee}", title_justify="left")
    table.add_column("élément")
    table.add_column("valeur", justify="right")
    euros = lambda v: "—" if v is None else f"{v:,.2f} €".replace(",", "\u202f").replace(".", ",")  # noqa: E731
    table.add_row(f"plafond de ressources {args.financement} (annuel)", euros(result.plafond))
    table.add_row(
        "dépassement du plafond",
        "—" if result.depassement_pct is None else f"{result.depassement_pct:.2f} %".replace(".", ","),
    )
    table.add_row(
        "CDPR" + (" (modulé)" if args.cdpr_modulee is not None else " (barème national)"),
        "—" if result.cdpr is None else f"{result.cdpr:.2f}".replace(".", ","),
    )
    table.add_row("SLR (€/m²/mois)", "—" if result.slr is None else f"{result.slr:.2f}".replace(".", ","))
    table.add_row("SLS avant plafonnement (mensuel)", euros(result.sls_avant_plafonnement))
    table.add_row("SLS dû (mensuel)", euros(result.sls))
    if result.frais:
        table.add_row("frais de dossier", euros(result.frais))
    console.print(table)
    if result.motif:
        console.print(f"Motif : {result.motif}")
    return 0


def cmd_serveur(args: argparse.Namespace) -> int:
    from .web.serveur import prepare, serve

    prepare(args.data_dir)
    serve(args.hote, args.port, args.processus, args.fils)
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from .web.manage import run

    return run(args.arguments or ["help"], args.data_dir)


def cmd_echeances(args: argparse.Namespace) -> int:
    """The reminders of every convention (for a scheduled job): late first, then those due within N days."""
    from .web.manage import setup

    setup(args.data_dir)
    from django.utils import timezone

    from .conventions.cycle import a_relancer, prochaine_etape
    from .conventions.models import Convention

    today = timezone.localdate()
    rows: list[dict[str, Any]] = [
        {
            "convention": str(c),
            "organisme": c.organisme.code,
            "etape": c.get_statut_display(),
            "echeance": c.echeance.isoformat() if c.echeance else "",
            "jours_restants": (c.echeance - today).days if c.echeance else None,
            "prochaine_etape": prochaine_etape(c),
        }
        for c in a_relancer(Convention.objects.select_related("organisme"))
        if c.echeance and (c.echeance - today).days <= args.jours
    ]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    table = Table(title=f"Échéances dépassées ou à moins de {args.jours} jours", title_justify="left")
    for name in ("convention", "étape", "échéance", "jours", "prochaine étape"):
        table.add_column(name, justify="right" if name == "jours" else "left")
    for r in rows:
        late = r["jours_restants"] is not None and r["jours_restants"] < 0
        table.add_row(
            r["convention"],
            r["etape"],
            r["echeance"],
            f"[red]{r['jours_restants']}[/]" if late else str(r["jours_restants"]),
            r["prochaine_etape"],
        )
    console.print(table if rows else "Aucune échéance dépassée ni proche.")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    cog = Path(args.cog) if args.cog else None
    status = 0
    if args.suite in ("rpls", "tout"):
        from .bench.rpls import run_bench

        status |= run_bench(data_dir(args.data_dir), args.logements, args.graine, args.garder, cog)
    if args.suite in ("indicateurs", "tout"):
        from .bench.indicateurs import run_bench_indicateurs

        code, _ = run_bench_indicateurs(
            data_dir(args.data_dir),
            args.logements,
            args.evenements,
            args.graine,
            cog,
            spark=not args.sans_spark,
            # pandas needs more than 24 GB for the whole national history: a quarter of the landlords by default
            pandas_share=args.part_pandas or (1.0 if args.logements <= 1_000_000 else 0.25),
        )
        status |= code
    if args.suite in ("web", "tout"):
        from .bench.web import run_bench_web

        code, _ = run_bench_web(
            data_dir(args.data_dir),
            args.logements,
            args.evenements,
            args.graine,
            cog,
            users=args.utilisateurs,
            duration=args.duree,
            reuse=Path(args.reprendre) if args.reprendre else None,
        )
        status |= code
    if args.suite == "rapports":
        from .bench.rapports import run_bench_rapports

        code, _ = run_bench_rapports(data_dir(args.data_dir), args.graine)
        status |= code
    elif args.suite == "tout":
        # Django reads its settings once per process and the web suite has set them up on its own workspace:
        # the documents suite runs in a process of its own, as `cus bench --suite rapports` would
        command = [sys.executable, "-m", "pilote_cus.cli", "bench", "--suite", "rapports", "--graine", str(args.graine)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
        status |= subprocess.run(
            [*command, "--data-dir", str(data_dir(args.data_dir))], env=env, check=False
        ).returncode
    return status


def _dwellings(value: str) -> int:
    number = int(value.replace("_", "").replace(" ", ""))
    if not MIN_DWELLINGS <= number <= MAX_DWELLINGS:
        raise argparse.ArgumentTypeError(f"entre {MIN_DWELLINGS} et {MAX_DWELLINGS} logements")
    return number


def _count(value: str) -> int:
    try:
        number = int(value.replace("_", "").replace(" ", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu : {value}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"nombre positif attendu : {value}")
    return number


def _event_schemas() -> dict[str, EventSchema]:
    """The shipped event schemas; none if one is broken (`cus verifier` then says which and why)."""
    try:
        return event_schemas()
    except (DeclarationError, ValueError):
        return {}


def build_parser() -> argparse.ArgumentParser:
    install_french()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help="dossier de travail (défaut : $CUS_DATA_DIR ou ./donnees-cus)",
    )
    parser = argparse.ArgumentParser(
        prog="cus",
        parents=[common],
        description="Pilote CUS : conventions d'utilité sociale du logement social.",
    )
    parser.add_argument(
        "--version", action="version", version=f"pilote-cus {__version__}", help="affiche la version et quitte"
    )
    sub = parser.add_subparsers(dest="commande", metavar="COMMANDE", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    p = add("demo", cmd_demo, "génère un bailleur synthétique, l'importe et produit l'état des lieux")
    p.add_argument("--logements", type=_dwellings, default=20_000)
    p.add_argument("--graine", type=int, default=2024)
    p.add_argument("--sans-serveur", action="store_true", help="ne pas lancer l'application web")
    p.add_argument("--port", type=int, default=8000, help="port de l'application web (défaut : 8000)")

    p = add("importer", lambda a: EXIT_USAGE, "valide et importe un fichier du bailleur")
    kinds = p.add_subparsers(dest="type_fichier", metavar="TYPE", required=True)
    rpls = kinds.add_parser("rpls", parents=[common], help="répertoire des logements (RPLS), transmission ou open data")
    rpls.set_defaults(handler=cmd_import_rpls)
    rpls.add_argument("fichier")
    rpls.add_argument("--millesime", type=int, help="année du 1er janvier décrit (fichiers open data)")
    rpls.add_argument("--organisme", help="identifiant de l'organisme si le fichier ne le donne pas")
    rpls.add_argument("--rapport", help="chemin du rapport d'erreurs CSV")
    for schema in _event_schemas().values():
        events = kinds.add_parser(schema.nom, parents=[common], help=schema.libelle, description=schema.description)
        events.set_defaults(handler=cmd_import_events)
        events.add_argument("fichier", help="fichier CSV (séparateur ; , ou tabulation) ou classeur XLSX")
        events.add_argument("--rapport", help="chemin du rapport d'erreurs CSV")

    p = add("referentiel", lambda a: EXIT_USAGE, "charge un référentiel public")
    refs = p.add_subparsers(dest="referentiel", metavar="REFERENTIEL", required=True)
    cog = refs.add_parser("cog", parents=[common], help=f"Code officiel géographique (source : {COG_URL})")
    cog.set_defaults(handler=cmd_referentiel_cog)
    cog.add_argument(
        "--from",
        required=True,
        metavar="DOSSIER",
        help="dossier contenant communes_AAAA.csv, commune_epci_AAAA.csv, departements.json, regions.json",
    )
    cog.add_argument("--annee", type=int)
    plafonds = refs.add_parser(
        "plafonds", parents=[common], help="plafonds de ressources datés (fichier de paramètres OpenFisca)"
    )
    plafonds.set_defaults(handler=cmd_referentiel_plafonds)
    plafonds.add_argument("--from", required=True, metavar="FICHIER", help="CSV parametre,date_effet,valeur")

    p = add("classement", cmd_classement, "classement au service rendu : score expliqué et classe de chaque ensemble")
    p.add_argument(
        "--ensembles", required=True, metavar="FICHIER", help="CSV : ensemble, depcom, lat, lon, champs de la grille"
    )
    p.add_argument("--grille", metavar="FICHIER", help="grille TOML (défaut : la grille type livrée)")
    p.add_argument(
        "--bpe",
        metavar="FICHIER",
        help="base permanente des équipements (INSEE, https://www.insee.fr/fr/statistiques/3568638)",
    )
    p.add_argument("--arrets", metavar="FICHIER", help="stops.txt d'un GTFS (transport.data.gouv.fr)")
    p.add_argument("--qpv", metavar="FICHIER", help="contours des QPV en GeoJSON (https://sig.ville.gouv.fr)")
    p.add_argument("--forcages", metavar="FICHIER", help="CSV ensemble;classe;motif (le motif est obligatoire)")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--detail", action="store_true", help="une ligne par ensemble et critère (csv, json)")
    p.add_argument("--sortie", help="fichier de sortie (défaut : sortie standard pour csv et json)")

    p = add("sls", cmd_sls, "supplément de loyer de solidarité d'un ménage (barème national ou modulé)")
    p.add_argument("--surface", type=float, required=True, metavar="M2", help="surface habitable (m²)")
    p.add_argument(
        "--ressources", type=float, metavar="EUROS", help="revenus fiscaux de référence N-2 (sauf --sans-reponse)"
    )
    p.add_argument(
        "--categorie", type=int, required=True, metavar="N", help="catégorie de ménage (1 à 6, plus au-delà)"
    )
    p.add_argument("--zone-plafonds", required=True, choices=["paris", "idf", "autres"])
    p.add_argument("--zone-sls", type=int, required=True, choices=[1, 2, 3, 4])
    p.add_argument("--financement", required=True, choices=["PLAI", "PLUS", "PLS", "PLI"])
    p.add_argument("--annee", type=int, required=True, metavar="AAAA")
    p.add_argument("--loyer", type=float, metavar="EUROS", help="loyer principal mensuel (plafonnement à 30 %%)")
    p.add_argument("--qpv", action="store_true", help="logement en quartier prioritaire")
    p.add_argument("--zrr", action="store_true", help="logement en zone de revitalisation rurale")
    p.add_argument("--exoneration-plh", action="store_true", help="zone exonérée par le PLH")
    p.add_argument(
        "--sans-reponse", action="store_true", help="ménage sans réponse à l'enquête : SLS forfaitaire provisoire"
    )
    p.add_argument("--apl", action="store_true", help="ménage bénéficiaire de l'APL (non enquêté)")
    p.add_argument("--cdpr-modulee", type=float, help="CDPR fixé par la CUS pour ce dépassement (modulation)")
    p.add_argument("--plafonds", metavar="FICHIER", help="fichier de plafonds (défaut : celui du dossier de travail)")
    p.add_argument("--format", choices=["texte", "json"], default="texte")

    p = add("etat-des-lieux", cmd_etat_des_lieux, "ventilations standard du parc (RPLS) par territoire")
    p.add_argument("--maille", action="append", required=True, choices=[*etat_des_lieux.MAILLES, "toutes"])
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--millesime", type=int)
    p.add_argument("--sortie", help="fichier de sortie (défaut : sortie standard pour csv et json)")

    add_indicator_commands(add, common)
    add_report_commands(add, common)

    p = add("serveur", cmd_serveur, "lance l'application web (met d'abord à jour la base de l'application)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--hote", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
    p.add_argument("--processus", type=int, default=2, help="processus serveurs (défaut : 2)")
    p.add_argument("--fils", type=int, default=4, help="fils d'exécution par processus (défaut : 4)")

    p = add("echeances", cmd_echeances, "rappels : conventions en retard ou dont l'échéance approche")
    p.add_argument("--jours", type=int, default=30, help="horizon des rappels en jours (défaut : 30)")
    p.add_argument("--format", choices=["texte", "json"], default="texte")

    p = add(
        "web", cmd_web, "commandes d'administration Django sur la base de l'application (migrate, createsuperuser…)"
    )
    p.add_argument("arguments", nargs=argparse.REMAINDER, help="commande Django et ses options")

    add("entrepot", cmd_entrepot, "liste les instantanés de l'entrepôt et leur provenance")
    add("verifier", cmd_verifier, "vérifie les déclarations livrées comme données (schémas, catalogues)")

    p = add("synthetique", cmd_synthetique, "écrit le fichier RPLS d'un bailleur synthétique")
    p.add_argument("--logements", type=_dwellings, default=20_000)
    p.add_argument("--graine", type=int, default=2024)
    p.add_argument("--millesime", type=int, default=2024)
    p.add_argument("--format", choices=["opendata", "transmission"], default="opendata")
    p.add_argument("--encodage", choices=["latin-1", "utf-8"], default="latin-1")
    p.add_argument("--organismes", type=int)
    p.add_argument("--sortie", required=True)

    p = add("bench", cmd_bench, "mesure les performances (import, état des lieux, indicateurs) contre pandas")
    p.add_argument("--suite", choices=["rpls", "indicateurs", "web", "rapports", "tout"], default="tout")
    p.add_argument("--utilisateurs", type=int, default=20, help="utilisateurs simultanés (suite web, défaut : 20)")
    p.add_argument(
        "--reprendre", metavar="DOSSIER", help="suite web : remesurer le dossier d'un passage précédent (bench/web-…)"
    )
    p.add_argument("--duree", type=float, default=60.0, help="durée de la mesure en secondes (suite web, défaut : 60)")
    p.add_argument("--evenements", type=_count, default=30_000_000, help="événements de l'historique national")
    p.add_argument("--sans-spark", action="store_true", help="ne pas mesurer Spark")
    p.add_argument(
        "--part-pandas",
        type=float,
        help="part des organismes comparée à pandas (défaut : tous jusqu'à 1 million de logements, un quart au-delà : "
        "pandas ne tient pas l'historique national en 24 Go)",
    )
    p.add_argument("--logements", type=_dwellings, default=MAX_DWELLINGS)
    p.add_argument("--graine", type=int, default=7)
    p.add_argument("--garder", action="store_true", help="conserver le fichier généré pour les prochaines mesures")
    p.add_argument(
        "--cog",
        metavar="DOSSIER",
        help="répartir les logements sur toutes les communes d'un COG (et valider les codes contre lui)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "data_dir"):
        args.data_dir = None
    try:
        return int(args.handler(args))
    except ImportRejected as rejected:  # any command that imports a file: the report, nothing imported
        stem = Path(rejected.report.file_name).stem
        default = data_dir(args.data_dir) / "rapports" / f"erreurs-{stem}-{datetime.now():%Y%m%d-%H%M%S}.csv"
        target = Path(args.rapport) if getattr(args, "rapport", None) else default
        print_report(rejected.report, rejected.report.write_csv(target))
        return EXIT_REJECTED
    except (
        NoSnapshot,
        NoData,
        DeclarationError,
        ReferenceDataError,
        ExportError,
        ValueError,
    ) as error:  # CeilingError too
        console.print(f"[red]Erreur[/] : {error}")
        return EXIT_USAGE
    except OSError as error:
        console.print(f"[red]Erreur de fichier[/] : {error.strerror or error} ({error.filename or ''})")
        return EXIT_USAGE
    except KeyboardInterrupt:
        console.print("Interrompu : l'entrepôt n'a pas été modifié.")
        return 130
    except Exception as error:  # the last barrier: no traceback for users
        if os.environ.get("CUS_DEBUG"):
            raise
        console.print(
            f"[red]Erreur interne inattendue[/] : {type(error).__name__} : {error}. "
            "Relancez avec CUS_DEBUG=1 pour le détail et signalez-la."
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
