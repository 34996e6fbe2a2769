"""Built-in operators; each module registers its classes on import."""
from . import predict, registered, train_classifier  # noqa: F401
