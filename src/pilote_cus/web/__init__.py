"""The web application (Django + DSFR + htmx): a thin shell over the business areas."""
