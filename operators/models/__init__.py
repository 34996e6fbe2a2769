"""Built-in operators; each module registers its classes on import."""
from . import predict, train_classifier  # noqa: F401
