"""A model file is hostile input: importing one (POST /api/models/import/) must never run
code of the file's choosing, nor crash the server later. Each file here, built by hand as an
attacker would, tries to touch a canary file; each is refused with a 400 and the canary
never appears."""
from __future__ import annotations

import io
import json
import os
import pickle
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from skops.io._protocol import PROTOCOL

from datagran.datasets.model_files import ERR_UNTRUSTED_TYPE
from datagran.registry.models import ModelVersion


def value(v: Any) -> dict[str, Any]:
    """A skops node for a plain value: text as a JSON node, a list as a list node."""
    if isinstance(v, dict):
        return v  # already a node
    if isinstance(v, list):
        return {"__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
                "content": [value(x) for x in v]}
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(v), "is_json": True}


def call(module: str, name: str, *args: Any) -> dict[str, Any]:
    """A node that skops builds as ``module.name(*args)``."""
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": {"__class__": "tuple", "__module__": "builtins",
                        "__loader__": "TupleNode", "content": [value(a) for a in args]}}


def skops_file(root: dict[str, Any], extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("schema.json", json.dumps({**root, "protocol": PROTOCOL}))
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return out.getvalue()


def hidden_in_a_real_model(payload: dict[str, Any]) -> bytes:
    """A fitted LogisticRegression whose attributes carry the payload."""
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    with zipfile.ZipFile(io.BytesIO(sio.dumps(LogisticRegression().fit(X, [0, 0, 1, 1])))) as z:
        schema = json.loads(z.read("schema.json"))
        others = {n: z.read(n) for n in z.namelist() if n != "schema.json"}
    attributes = schema["content"]
    attributes["content"]["innocent_looking"] = payload
    attributes["key_types"]["content"].append(
        {"__class__": "str", "__module__": "builtins", "__loader__": "TypeNode"})
    return skops_file(schema, others)


def payloads(canary: Path) -> dict[str, bytes]:
    touch = f"open({str(canary)!r}, 'w').close()"
    builtin = "builtins"
    os_system = call(builtin, "getattr", call(builtin, "__import__", "os"), "system")
    popen = call(builtin, "getattr", call(builtin, "__import__", "subprocess"), "Popen")

    def run_each(function: dict[str, Any], arg: Any) -> dict[str, Any]:
        # list(map(f, [arg])) calls f(arg) while the file is being loaded.
        return call(builtin, "list", call(builtin, "map", function, [arg]))

    class Exploit:
        def __reduce__(self) -> Any:
            return (os.system, (f"touch {canary}",))

    return {
        "exec": skops_file(call(builtin, "exec", touch)),
        "eval": skops_file(call(builtin, "eval", f"exec({touch!r})")),
        "exec hidden in a model": hidden_in_a_real_model(call(builtin, "exec", touch)),
        "os.system by name": skops_file(call("os", "system", f"touch {canary}")),
        "os.system through a getattr chain": skops_file(run_each(os_system,
                                                                 f"touch {canary}")),
        "subprocess.Popen by name": skops_file(call("subprocess", "Popen",
                                                    ["touch", str(canary)])),
        "subprocess.Popen through a getattr chain": skops_file(run_each(
            popen, ["touch", str(canary)])),
        "a pickle named .skops": pickle.dumps(Exploit()),
    }


def post(api: Any, data: bytes, name: str = "evil") -> Any:
    fh = io.BytesIO(data)
    fh.name = "model.skops"
    return api.post("/api/models/import/", {"file": fh, "name": name}, format="multipart")


@pytest.mark.parametrize("kind", list(payloads(Path("/x"))))
def test_a_model_file_that_calls_code_is_refused_and_the_code_never_runs(
        api: Any, tmp_path: Path, kind: str) -> None:
    canary = tmp_path / "pwned"
    response = post(api, payloads(canary)[kind])
    time.sleep(0.2)  # a Popen would touch the canary from another process
    assert response.status_code == 400, response.content[:300]
    assert "file" in response.json()["extra"]["fields"]
    assert not canary.exists(), f"{kind}: the file's code ran in the server"
    assert not ModelVersion.objects.exists()


def test_the_refusal_names_the_untrusted_callables(api: Any, tmp_path: Path) -> None:
    response = post(api, payloads(tmp_path / "pwned")["os.system through a getattr chain"])
    assert response.status_code == 400
    assert {ERR_UNTRUSTED_TYPE.format(type=t) for t in
            ("builtins.getattr", "builtins.__import__", "builtins.map")} <= set(
        response.json()["extra"]["fields"]["file"])


@pytest.mark.slow  # a large upload
def test_a_zip_bomb_posing_as_a_model_is_refused_before_it_inflates(api: Any) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", "{}")
        with archive.open("0.npy", "w", force_zip64=True) as member:
            chunk = bytes(16 * 1024 * 1024)
            for _ in range(40):  # 640 MiB of zeros, about 640 KB deflated
                member.write(chunk)
    assert len(out.getvalue()) < 2_000_000
    response = post(api, out.getvalue())
    assert response.status_code == 400
    assert "inflate" in response.json()["message"] and "limit" in response.json()["message"]


def tampered(estimator: Any, field: str, bad: Any) -> bytes:
    """The estimator's file with one field of every tree's node array replaced."""
    with zipfile.ZipFile(io.BytesIO(sio.dumps(estimator))) as z:
        members = {n: z.read(n) for n in z.namelist()}
    for name, content in members.items():
        if name.endswith(".npy"):
            array = np.load(io.BytesIO(content), allow_pickle=False)
            if array.dtype.names and field in array.dtype.names:
                array[field][0] = bad
                buffer = io.BytesIO()
                np.save(buffer, array, allow_pickle=False)
                members[name] = buffer.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(("estimator", "field", "bad"), [
    (RandomForestClassifier(n_estimators=2, random_state=0), "left_child", 10**6),
    (RandomForestClassifier(n_estimators=2, random_state=0), "feature", 10**6),
    (RandomForestClassifier(n_estimators=2, random_state=0), "left_child", 0),  # a cycle
    (HistGradientBoostingClassifier(max_iter=2), "left", 10**6),
    (HistGradientBoostingClassifier(max_iter=2), "feature_idx", 10**6),
], ids=["forest-child", "forest-feature", "forest-cycle", "hgb-child", "hgb-feature"])
def test_a_tree_with_indices_outside_itself_is_refused(api: Any, estimator: Any, field: str,
                                                        bad: Any) -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((200, 3)), columns=["a", "b", "c"])
    estimator.fit(X, (X["a"] > 0.5).astype(int))
    assert post(api, sio.dumps(estimator), name="good").status_code == 201
    response = post(api, tampered(estimator, field, bad))
    assert response.status_code == 400, response.content[:300]
    assert "decision tree" in response.json()["message"]
    assert ModelVersion.objects.count() == 1


def test_a_model_file_over_the_upload_limit_is_refused_naming_it(api: Any, settings: Any
                                                                  ) -> None:
    settings.DATAGRAN = {**settings.DATAGRAN, "UPLOAD_MAX_BYTES": 1000}
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    response = post(api, sio.dumps(LogisticRegression().fit(X, [0, 0, 1, 1])), name="big")
    assert response.status_code == 400
    assert "DATAGRAN_UPLOAD_MAX_BYTES" in response.json()["message"]
    assert not ModelVersion.objects.exists()
