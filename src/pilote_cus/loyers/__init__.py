"""Rents and ceilings: resource ceilings as dated parameters, household category, SLS (national and CUS
modulation)."""
