from pathlib import Path

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "datagran.connections"

    def ready(self) -> None:
        from .sql_settings import sqlite_root  # also registers its system check

        root = sqlite_root()
        if root is not None:
            Path(root).mkdir(parents=True, exist_ok=True)
