"""pytest plugin (loaded with `-p`): a throw-away workspace before Django reads its settings.

pytest-django imports the settings before any conftest runs, so the workspace must be chosen here.
`CUS_DB_ENGINE=postgresql` (with the `CUS_DB_*` variables) runs the same tests on PostgreSQL.
"""

import os
import tempfile

if "CUS_DATA_DIR" not in os.environ:
    os.environ["CUS_DATA_DIR"] = tempfile.mkdtemp(prefix="cus-essais-")
os.environ.setdefault("CUS_SECRET_KEY", "cle-des-essais-uniquement-" + "x" * 30)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pilote_cus.web.settings")
os.environ.setdefault("CUS_HACHAGE_RAPIDE", "1")
# the live server of the browser tests answers each request in its own thread: no connection may outlive it
os.environ.setdefault("CUS_DB_CONN_MAX_AGE", "0")
