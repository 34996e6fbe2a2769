"""Built-in operators; each module registers its classes on import."""
from . import sample, upload  # noqa: F401
