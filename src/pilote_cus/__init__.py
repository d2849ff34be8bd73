"""Pilote CUS : pilotage des conventions d'utilité sociale du logement social."""

__version__ = "0.1.0"
