"""Django settings. The workspace (`CUS_DATA_DIR`) holds the SQLite database and the uploads.

PostgreSQL is chosen with `CUS_DB_ENGINE=postgresql` and the usual `CUS_DB_*` variables (name, user,
password, host, port); SQLite in the workspace is the zero set-up default.
"""

import os
import secrets
from pathlib import Path

from ..config import data_dir

DATA_DIR = data_dir()
BASE_DIR = Path(__file__).resolve().parent


def _secret_key() -> str:
    """A per-workspace key kept in the workspace: sessions survive restarts, nothing is committed."""
    explicit = os.environ.get("CUS_SECRET_KEY")
    if explicit:
        return explicit
    path = DATA_DIR / ".cle-secrete"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("CUS_DEBUG") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("CUS_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "widget_tweaks",
    "dsfr",
    "django_htmx",
    "pilote_cus.comptes",
    "pilote_cus.audit",
    "pilote_cus.conventions",
    "pilote_cus.classement",
    "pilote_cus.tableaux",
    "pilote_cus.loyers",
    "pilote_cus.rapports",
    "pilote_cus.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "pilote_cus.web.urls"
WSGI_APPLICATION = "pilote_cus.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pilote_cus.web.contexte.site",
            ],
        },
    },
]


def _database() -> dict:
    if os.environ.get("CUS_DB_ENGINE", "sqlite") == "postgresql":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ.get("CUS_DB_NAME", "pilote_cus"),
            "USER": os.environ.get("CUS_DB_USER", ""),
            "PASSWORD": os.environ.get("CUS_DB_PASSWORD", ""),
            "HOST": os.environ.get("CUS_DB_HOST", ""),
            "PORT": os.environ.get("CUS_DB_PORT", ""),
            "CONN_MAX_AGE": int(os.environ.get("CUS_DB_CONN_MAX_AGE", "60")),
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("CUS_DB_NAME", str(DATA_DIR / "application.sqlite3")),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "comptes.Utilisateur"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "connexion"
LOGIN_REDIRECT_URL = "accueil"
LOGOUT_REDIRECT_URL = "connexion"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ.get("CUS_HTTPS") == "1"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LANGUAGE_CODE = "fr-fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns when it is missing, even with the finders
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
MEDIA_ROOT = DATA_DIR / "televersements"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# reference files of the classement au service rendu (the product ships none): source → path
CUS_REFERENTIELS_CLASSEMENT = {
    source: chemin
    for source, chemin in (
        ("bpe", os.environ.get("CUS_REFERENTIEL_BPE", "")),
        ("arrets", os.environ.get("CUS_REFERENTIEL_ARRETS", "")),
        ("qpv", os.environ.get("CUS_REFERENTIEL_QPV", "")),
    )
    if chemin
}
# commune outlines drawn under the classement map (GeoJSON WGS84 with properties code and nom); optional
CUS_CONTOURS_COMMUNES = os.environ.get("CUS_CONTOURS_COMMUNES", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": os.environ.get("CUS_LOG_LEVEL", "WARNING").upper()}},
}

if os.environ.get("CUS_HACHAGE_RAPIDE") == "1":  # tests only (set by pilote_cus.web.essais): PBKDF2 is slow
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
