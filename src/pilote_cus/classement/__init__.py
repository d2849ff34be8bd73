"""Classement au service rendu: the grid as a declaration, open-data reference loaders, scoring and overrides."""
