"""A plugin installed as a package is found through its entry point, like the built-ins: its
operator is in the catalogue the canvas reads, and it runs. (tests/e2e/test_plugin_operator.py
sees it in the palette of a live server.)"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pandas as pd
import pytest

from operators import LocalContext, get_operator
from operators.registry import ENTRY_POINT_GROUP, UnknownOperator, check_registry, reload

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
