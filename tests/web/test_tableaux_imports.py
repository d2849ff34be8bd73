"""Imports page: a good file imported and published, a bad one refused with the French report, nothing imported."""

import csv
import io
from pathlib import Path

import duckdb
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from pilote_cus.audit.models import Trace
from pilote_cus.comptes.models import Organisme, Role
from pilote_cus.entrepot.entrepot import Warehouse
from pilote_cus.evenements.schema import event_schemas
from pilote_cus.evenements.stockage import event_view_sql
from pilote_cus.tableaux.models import Publication, Televersement

from . import usines


@pytest.fixture(autouse=True)
def statiques() -> None:
    usines.racine_statique()


@pytest.fixture
def espace(db: None, settings, tmp_path: Path) -> dict:
    """A private copy of the demo warehouse as the application's workspace; imports run synchronously."""
    demo = usines.entrepot_demo()
    settings.DATA_DIR = usines.copie_entrepot(demo, tmp_path)
    settings.MEDIA_ROOT = tmp_path / "televersements"
    settings.CUS_IMPORTS_SYNCHRONES = True
    organisme = usines.organisme(demo.code, demo.nom, ())
    user = usines.utilisateur("bailleur-imports", Role.BAILLEUR, organismes=[organisme])
    client = Client()
    client.force_login(user)
    source = demo.dossier / "entrees" / "pannes.csv"
    return {"client": client, "organisme": organisme, "source": source, "warehouse": Warehouse(tmp_path)}


def _upload(client: Client, organisme: Organisme, name: str, content: bytes, nature: str = "pannes"):
    return client.post(
        reverse("tableaux:imports"),
        {"organisme": organisme.pk, "nature": nature, "millesime": "", "fichier": SimpleUploadedFile(name, content)},
        follow=True,
    )


def test_a_good_file_is_imported_and_published(espace: dict) -> None:
    before = len(espace["warehouse"].history("pannes"))
    response = _upload(espace["client"], espace["organisme"], "pannes.csv", espace["source"].read_bytes())
    assert response.status_code == 200
    upload = Televersement.objects.get()
    assert upload.etat == "importe", upload.message
    assert upload.progression == 100 and upload.instantane.startswith("pannes-")
    assert len(espace["warehouse"].history("pannes")) == before + 1
    assert Publication.objects.filter(active=True).count() == 1
    page = espace["client"].get(reverse("tableaux:import_etat", args=[upload.pk])).content.decode()
    assert upload.instantane in page and "100 %" in page and "every 1s" not in page
    listing = espace["client"].get(reverse("tableaux:imports")).content.decode()
    assert upload.instantane in listing and "pannes.csv" in listing
    actions = set(Trace.objects.filter(organisme=espace["organisme"]).values_list("action", flat=True))
    assert {"televersement", "import_termine"} <= actions


def test_a_bad_file_is_refused_with_the_french_report(espace: dict) -> None:
    lines = espace["source"].read_text(encoding="utf-8").splitlines()
    fields = lines[2].split(";")
    fields[4] = "TOBOGGAN"  # type_equipement: not a known code
    lines[2] = ";".join(fields)
    before = [s.id for s in espace["warehouse"].history()]
    _upload(espace["client"], espace["organisme"], "pannes-fautives.csv", "\n".join(lines).encode())
    upload = Televersement.objects.get()
    assert upload.etat == "refuse" and "rien n'a été importé" in upload.message
    assert [s.id for s in espace["warehouse"].history()] == before
    assert not Publication.objects.exists()
    page = espace["client"].get(reverse("tableaux:import_etat", args=[upload.pk])).content.decode()
    assert 'data-testid="rapport"' in page and "TOBOGGAN" in page and "<caption>" in page
    report = espace["client"].get(reverse("tableaux:import_rapport", args=[upload.pk])).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(report), delimiter=";"))
    assert rows[0]["ligne"] == "3" and rows[0]["colonne"] == "type_equipement" and rows[0]["valeur"] == "TOBOGGAN"
    assert rows[0]["code"] == "CODE_INCONNU" and rows[0]["fichier"] == "pannes-fautives.csv"


def test_a_file_of_another_landlord_is_refused_before_import(espace: dict) -> None:
    text = espace["source"].read_text(encoding="utf-8").replace(espace["organisme"].code, "12345678900011")
    before = [s.id for s in espace["warehouse"].history()]
    _upload(espace["client"], espace["organisme"], "pannes.csv", text.encode())
    upload = Televersement.objects.get()
    assert upload.etat == "refuse" and "autre organisme" in upload.message
    assert [s.id for s in espace["warehouse"].history()] == before


def test_uploads_of_other_landlords_are_invisible(espace: dict, monde: usines.Monde) -> None:
    _upload(espace["client"], espace["organisme"], "pannes.csv", b"id_panne\n")
    upload = Televersement.objects.get()
    other = Client()
    other.force_login(monde.autre_bailleur)
    assert other.get(reverse("tableaux:import_etat", args=[upload.pk])).status_code == 404
    assert other.get(reverse("tableaux:import_rapport", args=[upload.pk])).status_code == 404
    assert "pannes.csv" not in other.get(reverse("tableaux:imports")).content.decode()


def test_the_form_refuses_an_unknown_format(espace: dict) -> None:
    response = _upload(espace["client"], espace["organisme"], "pannes.pdf", b"%PDF")
    assert "Formats acceptés" in response.content.decode()
    assert not Televersement.objects.exists()


def test_the_progress_bar_polls_while_running(espace: dict) -> None:
    upload = Televersement.objects.create(
        organisme=espace["organisme"],
        auteur=espace["client"].session
        and Televersement._meta.get_field("auteur").related_model.objects.get(username="bailleur-imports"),
        nature="pannes",
        fichier=SimpleUploadedFile("x.csv", b""),
        nom_fichier="x.csv",
        etat="en_cours",
        progression=42,
    )
    page = espace["client"].get(reverse("tableaux:import_etat", args=[upload.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="42"' in page


def _by_landlord(wh: Warehouse, nature: str) -> dict[str, tuple[int, int]]:
    """Rows of each landlord as readers see them: number and a checksum of their values."""
    if nature == "rpls":
        sql, column = f"SELECT * FROM read_parquet('{wh.current('rpls', 2024).table('logements')}')", "organisme_id"
    else:
        sql, column = event_view_sql(wh, event_schemas()[nature])[0], "organisme"
    rows = duckdb.sql(f"SELECT {column}, count(*), sum(hash(t)::HUGEINT) FROM ({sql}) t GROUP BY 1").fetchall()
    return {landlord: (int(count), int(checksum)) for landlord, count, checksum in rows}


@pytest.mark.parametrize("nature", ["pannes", "rpls"])
def test_an_upload_replaces_the_rows_of_its_landlord_only(espace: dict, nature: str) -> None:
    """The warehouse is shared: landlord B's upload keeps the demo landlord's rows, then replaces B's own."""
    own, other = espace["organisme"].code, "12345678900011"
    b = usines.organisme(other, "Logis de Garonne", ("69",))
    client = Client()
    client.force_login(usines.utilisateur("bailleur-b", Role.BAILLEUR, organismes=[b]))
    source = espace["source"] if nature == "pannes" else espace["source"].with_name("rpls_2024.csv")
    content = source.read_bytes().replace(own.encode(), other.encode())
    before = _by_landlord(espace["warehouse"], nature)
    assert set(before) == {own}

    millesime = "2024" if nature == "rpls" else ""
    post = {"organisme": b.pk, "nature": nature, "millesime": millesime}
    client.post(reverse("tableaux:imports"), post | {"fichier": SimpleUploadedFile(source.name, content)})
    upload = Televersement.objects.get()
    assert upload.etat == "importe", upload.message
    after = _by_landlord(espace["warehouse"], nature)
    assert after[own] == before[own] and after[other][0] == before[own][0]

    fewer = b"\n".join(content.splitlines()[:-1]) + b"\n"  # B's file again, without its last line
    client.post(reverse("tableaux:imports"), post | {"fichier": SimpleUploadedFile(source.name, fewer)})
    assert Televersement.objects.latest("pk").etat == "importe", Televersement.objects.latest("pk").message
    again = _by_landlord(espace["warehouse"], nature)
    assert again[own] == before[own] and again[other][0] == before[own][0] - 1
