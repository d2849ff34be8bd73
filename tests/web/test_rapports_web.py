"""Downloading the convention document from the web application: perimeter, roles, formats."""

import io

import docx
import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from pilote_cus.conventions.models import Statut

from . import usines
from .usines import Monde

pytestmark = pytest.mark.django_db


def _get(m: Monde, compte: str, format: str = "html", convention: int | None = None) -> object:
    client = Client()
    client.force_login(m.comptes()[compte])
    return client.get(reverse("rapports:convention", args=[convention or m.convention.pk, format]))


def test_le_bailleur_telecharge_le_pdf_et_le_docx(monde: Monde) -> None:
    usines.racine_statique()
    response = _get(monde, "bailleur", "pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="convention-OPH-A-2019-2024.pdf"'
    texte = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Habitat du Rhône" in texte and "Rénover le parc." in texte and "Document de travail" in texte
    response = _get(monde, "bailleur", "docx")
    word = docx.Document(io.BytesIO(response.content))
    assert "Politique patrimoniale" in [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    page = Client()
    page.force_login(monde.bailleur)
    detail = page.get(reverse("conventions:detail", args=[monde.convention.pk])).content.decode()
    assert reverse("rapports:convention", args=[monde.convention.pk, "pdf"]) in detail


def test_hors_perimetre_404_et_format_inconnu(monde: Monde) -> None:
    usines.racine_statique()
    assert _get(monde, "autre_bailleur").status_code == 404
    assert _get(monde, "autre_etat").status_code == 404
    assert _get(monde, "bailleur", convention=monde.autre_convention.pk).status_code == 404
    assert _get(monde, "bailleur", "odt").status_code == 404
    assert Client().get(reverse("rapports:convention", args=[monde.convention.pk, "pdf"])).status_code == 302


def test_les_partenaires_attendent_la_signature(monde: Monde) -> None:
    usines.racine_statique()
    assert monde.convention.statut == Statut.CONCERTATION
    assert _get(monde, "etat").status_code == 200
    assert _get(monde, "collectivite").status_code == 403
    assert _get(monde, "association").status_code == 403
    monde.convention.statut = Statut.SUIVI
    monde.convention.save()
    usines.signer(monde.convention)
    response = _get(monde, "association")
    assert response.status_code == 200
    assert "Préfète du Rhône" in response.content.decode()
    assert _get(monde, "collectivite").status_code == 200
