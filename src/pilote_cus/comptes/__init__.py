"""Actors and accounts: organismes, collectivities, tenants' associations, users with their role and perimeter."""
