"""Built-in operators; each module registers its classes on import."""
from . import export_file  # noqa: F401
