"""Dashboards: indicator results published from the warehouse into the application database, imports."""
