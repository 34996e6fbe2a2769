"""Built-in operators; each module registers its classes on import."""
from . import http_json, sample, sql_query, upload  # noqa: F401
