"""Built-in operators; each module registers its classes on import."""
from . import (  # noqa: F401
    email_report,
    export_file,
    hubspot_upsert,
    salesforce_upsert,
    sql_table,
    webhook,
)
