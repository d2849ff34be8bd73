"""What every page needs: the service name (instead of django-dsfr's per-request SITE_CONFIG query)."""

from django.http import HttpRequest

SITE = {
    "site_title": "Pilote CUS",
    "site_tagline": "Conventions d'utilité sociale du logement social",
    "header_brand_html": "République<br>française",
}


def site(request: HttpRequest) -> dict:
    return {"SITE_CONFIG": SITE}
