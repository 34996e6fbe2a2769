"""Built-in connectors. Each is declared, as a plugin's operators are, in pyproject.toml's
``datagran.operators`` entry points."""
