from __future__ import annotations

import tomllib
from importlib.metadata import distribution, entry_points
from pathlib import Path

import pytest

from operators import get_operator
from operators.registry import ENTRY_POINT_GROUP, UnknownOperator, check_registry

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_registry_has_no_problems() -> None:
    assert check_registry() == []


def test_the_installed_entry_points_are_those_pyproject_declares() -> None:
    """An operator added to pyproject.toml exists only once the project is reinstalled."""
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]
    installed = {ep.name: ep.value for ep in distribution("datagran").entry_points
                 if ep.group == ENTRY_POINT_GROUP}
    assert installed == declared[ENTRY_POINT_GROUP], "run `make deps` to reinstall the project"


def test_each_built_in_operator_is_declared_by_an_entry_point_naming_its_class() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.value.startswith("operators."):
            assert type(get_operator(ep.name)) is ep.load()


def test_an_unknown_operator_is_reported_by_name() -> None:
    with pytest.raises(UnknownOperator, match="nope"):
        get_operator("nope")


@pytest.mark.slow  # loads the registry in many threads
def test_threads_asking_at_once_all_see_the_complete_registry() -> None:
    """Worker threads start together: none may see a half-loaded registry. A fresh process,
    so the registry really starts unloaded."""
    import subprocess
    import sys

    script = """
import threading
from operators import registry
seen, barrier = [], threading.Barrier(8)
def ask():
    barrier.wait()
    seen.append(len(registry.all_operators()))
threads = [threading.Thread(target=ask) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(sorted(set(seen)))
"""
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, env={"PATH": "", "PYTHONPATH": "."}).stdout
        counts = eval_list(out)
        assert len(counts) == 1 and counts[0] > 20, out


def eval_list(text: str) -> list[int]:
    return [int(x) for x in text.strip().strip("[]").split(",")]
