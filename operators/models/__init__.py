"""Built-in operators; each module registers its classes on import."""
from . import (  # noqa: F401
    cluster_kmeans,
    predict,
    registered,
    train_classifier,
    train_regressor,
)
