"""Built-in operators; each module registers its classes on import."""
from . import export_file, hubspot_upsert, salesforce_upsert, webhook  # noqa: F401
