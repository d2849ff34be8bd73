"""`cus rapport …`: the documents (convention, yearly follow-up, evaluation, regional synthesis).

The handlers live with their documents (`rapports/*.py`) and are imported only when the command runs, so
that `cus --help` does not load Django or WeasyPrint.
"""

import argparse
import importlib
from typing import Any

HANDLERS = {
    "convention": ("pilote_cus.rapports.convention", "commande"),
    "bilan": ("pilote_cus.rapports.bilan", "commande_bilan"),
    "evaluation": ("pilote_cus.rapports.bilan", "commande_evaluation"),
    "synthese-regionale": ("pilote_cus.rapports.synthese", "commande"),
}


def _run(args: argparse.Namespace) -> int:
    module, function = HANDLERS[args.document]
    from .web.manage import setup

    setup(args.data_dir)
    return int(getattr(importlib.import_module(module), function)(args))


def _selection(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--convention", type=int, metavar="ID", help="numéro de la convention dans l'application")
    group.add_argument(
        "--organisme",
        metavar="CODE",
        help="code (SIREN/SIRET) du bailleur : sa convention en cours (défaut : la seule)",
    )


def add_commands(add: Any, common: argparse.ArgumentParser) -> None:
    """Declare `cus rapport` and its documents on the main parser (`add` is cli.build_parser's helper)."""
    p = add("rapport", _run, "documents : convention, bilan annuel, évaluation à 3 ou 6 ans, synthèse régionale")
    sub = p.add_subparsers(dest="document", metavar="DOCUMENT", required=True)

    def doc(name: str, help_text: str, formats: tuple[str, ...]) -> argparse.ArgumentParser:
        d = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        d.add_argument("--format", choices=formats, default="pdf")
        d.add_argument("--sortie", metavar="FICHIER", help="fichier produit (défaut : rapports/ du dossier de travail)")
        return d

    d = doc("convention", "la convention d'utilité sociale (PDF, DOCX ou HTML)", ("pdf", "docx", "html"))
    _selection(d)
    d = doc("bilan", "le bilan annuel : réalisé et objectifs par engagement", ("pdf", "docx", "html", "xlsx", "ods"))
    _selection(d)
    d.add_argument("--annee", type=int, required=True, metavar="AAAA")
    d = doc("evaluation", "l'évaluation à 3 ou 6 ans", ("pdf", "docx", "html", "xlsx", "ods"))
    _selection(d)
    d.add_argument("--horizon", type=int, choices=[3, 6], required=True)
    d = doc("synthese-regionale", "synthèse régionale pour l'État", ("pdf", "html", "xlsx"))
    d.add_argument("--region", metavar="CODE", help="code INSEE de la région (défaut : la seule région présente)")
    d.add_argument("--generation", type=int, choices=[1, 2], default=2)
