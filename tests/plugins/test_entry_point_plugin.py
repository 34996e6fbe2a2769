"""A plugin installed as a package is found through its entry point, like the built-ins: its
operator is in the catalogue the canvas reads, and it runs. (tests/e2e/test_plugin_operator.py
sees it in the palette of a live server.)"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pandas as pd
import pytest

from operators import LocalContext, all_operators, get_operator
from operators.registry import (
    ENTRY_POINT_GROUP,
    BrokenOperators,
    UnknownOperator,
    check_registry,
    reload,
)

from .install import EXAMPLE_PLUGIN, install_plugin


@pytest.fixture
def example_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The example plugin installed for this test only: on sys.path, then gone again."""
    site = install_plugin(EXAMPLE_PLUGIN, tmp_path / "site-packages")
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(site))
        reload()
        yield site
    sys.modules.pop("datagran_example_plugin", None)
    reload()


def test_the_installed_package_declares_its_operator_by_entry_point(example_plugin: Path) -> None:
    declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert declared["example.shout"] == "datagran_example_plugin:Shout"
    assert check_registry() == []


def test_its_operator_is_in_the_catalogue_of_the_canvas(example_plugin: Path, api) -> None:
    catalogue = {op["name"]: op for op in api.get("/api/operators/").json()}
    shout = catalogue["example.shout"]
    assert shout["label"] == "Shout" and shout["category"] == "transform"
    assert [p["name"] for p in shout["inputs"]] == ["table"]
    assert shout["params_schema"]["properties"]["column"]["x-column-of"] == "table"
    assert "transform.sample" in catalogue  # the built-ins are still there


def test_its_operator_runs(example_plugin: Path) -> None:
    op = get_operator("example.shout")
    params = op.parse_params(op.example)
    out = op.run(LocalContext(), params, table=pd.DataFrame({"name": ["ada", "alan"]}))
    assert out["table"]["name"].tolist() == ["ADA!", "ALAN!"]


def test_uninstalled_it_is_gone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = install_plugin(EXAMPLE_PLUGIN, tmp_path / "site-packages")
    with monkeypatch.context() as patch:
        patch.syspath_prepend(str(site))
        reload()
        assert get_operator("example.shout").label == "Shout"
    sys.modules.pop("datagran_example_plugin", None)
    reload()
    with pytest.raises(UnknownOperator):
        get_operator("example.shout")


MODULE_PLUGIN = '''
from operators.base import Operator, Port
from operators.transforms.sample import Sample  # imported, not declared here: not counted


class Base(Operator):  # no name: a base class, not an operator
    category = "transform"
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)

    def run(self, ctx, params, table):
        return {"table": table}


class Head(Base):
    name = "acme.head"
    label = "Head"


class Tail(Base):
    name = "acme.tail"
    label = "Tail"
'''


def write_plugin(source: Path, entry_points: str, code: str) -> Path:
    (source / "acme_ops").mkdir(parents=True)
    (source / "acme_ops" / "__init__.py").write_text(code)
    (source / "pyproject.toml").write_text(
        '[project]\nname = "acme-ops"\nversion = "1.0"\n\n'
        f'[project.entry-points."datagran.operators"]\n{entry_points}\n')
    return source


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Installs a plugin written by the test; removed again afterwards."""
    def install(entry_points: str, code: str = MODULE_PLUGIN) -> None:
        source = write_plugin(tmp_path / "source", entry_points, code)
        monkeypatch.syspath_prepend(str(install_plugin(source, tmp_path / "site-packages")))

    yield install
    monkeypatch.undo()
    sys.modules.pop("acme_ops", None)
    reload()


def test_an_entry_point_naming_a_module_counts_the_operators_defined_there(installed) -> None:
    installed('acme = "acme_ops"')
    reload()
    names = {op.name for op in all_operators()}
    assert {"acme.head", "acme.tail"} <= names
    assert get_operator("acme.head").label == "Head"


def test_an_entry_point_whose_name_is_not_its_operators_is_refused(installed) -> None:
    installed('"acme.first" = "acme_ops:Tail"')
    with pytest.raises(BrokenOperators, match=r"entry point 'acme.first' \(acme_ops:Tail\): "
                                              r"names the operator 'acme.tail'"):
        reload()


def test_an_entry_point_that_cannot_load_is_named(installed) -> None:
    installed('"acme.head" = "acme_ops:Nothing"')
    with pytest.raises(BrokenOperators, match=r"entry point 'acme.head' \(acme_ops:Nothing\): "
                                              r"cannot be loaded: AttributeError"):
        reload()
