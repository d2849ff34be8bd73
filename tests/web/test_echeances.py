"""`cus echeances`: the reminders a scheduled job sends, late conventions first."""

import json
from datetime import timedelta

from django.utils import timezone

from pilote_cus import cli
from pilote_cus.conventions.models import Statut

from . import usines


def test_rappels_en_retard_d_abord_et_horizon(db: None, capsys) -> None:
    o = usines.organisme()
    today = timezone.localdate()
    late = usines.convention(o, Statut.A_SIGNER, echeance=today - timedelta(days=5))
    soon = usines.convention(o, Statut.INSTRUCTION, echeance=today + timedelta(days=10))
    usines.convention(o, Statut.SUIVI, echeance=today + timedelta(days=200))  # beyond the horizon
    usines.convention(o, Statut.TERMINEE, echeance=today - timedelta(days=50))  # nothing left to do
    assert cli.main(["echeances", "--jours", "30", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["jours_restants"] for r in rows] == [-5, 10]
    assert rows[0]["prochaine_etape"] == "Signer la convention"
    assert rows[1]["etape"] == soon.get_statut_display() and rows[0]["convention"] == str(late)
