"""`cus serveur`: the application behind gunicorn (threads, several workers), static files by whitenoise."""

import os
from typing import Any

from ..progression import console


def prepare(data_dir: str | None = None, *, quiet: bool = True) -> None:
    """Settings for this workspace, then the database schema brought up to date."""
    from .manage import setup

    setup(data_dir)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0 if quiet else 1)


def serve(host: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    from .wsgi import application

    class Application(BaseApplication):
        def __init__(self, options: dict[str, Any]) -> None:
            self.options = options
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    console.print(f"Application web : http://{host}:{port}/ (Ctrl+C pour arrêter)")
    Application(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 120,
            "graceful_timeout": 5,
            "loglevel": os.environ.get("CUS_LOG_LEVEL", "warning").lower(),
            "accesslog": None,
        }
    ).run()
