"""Install a plugin package into a folder the way pip does, for a test: its modules and a
``.dist-info`` with the entry points of its pyproject.toml, so that putting the folder on
``sys.path`` (or PYTHONPATH) makes ``importlib.metadata.entry_points`` find it, as it finds an
installed package. No build backend and no package index are needed."""
from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

EXAMPLE_PLUGIN = Path(__file__).resolve().parent / "example_plugin"


def install_plugin(source: Path, site: Path) -> Path:
    """Install the package in ``source`` (a pyproject.toml beside its modules) into ``site``."""
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    site.mkdir(parents=True, exist_ok=True)
    for module in source.iterdir():
        if module.is_dir() and (module / "__init__.py").exists():
            shutil.copytree(module, site / module.name,
                            ignore=shutil.ignore_patterns("__pycache__"))
    dist = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                   f"Version: {project['version']}\n")
    groups = project.get("entry-points", {})
    (dist / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items()) + "\n"
        for group, entries in groups.items()))
    (dist / "INSTALLER").write_text("tests\n")
    return site
