"""Built-in operators; each module registers its classes on import."""
from . import filter_rows, select_columns, split  # noqa: F401
