"""`cus web …`: Django's management commands on the workspace's application database."""

import os
import sys


def setup(data_dir: str | None = None) -> None:
    if data_dir:
        os.environ["CUS_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pilote_cus.web.settings")
    import django

    django.setup()


def run(argv: list[str], data_dir: str | None = None) -> int:
    setup(data_dir)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cus web", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
