"""The artifact store on each backend: the local folder (the embedded default) and S3 through
moto's server mode on loopback, with the standard AWS variables pointing at it."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from datagran.datasets.artifacts import ArtifactStore, artifact_store
from tests.s3 import S3Server, s3_server  # noqa: F401  (the session's S3 server fixture)


def use_s3(s3: S3Server, settings: Any, monkeypatch: pytest.MonkeyPatch,
           **options: str) -> str:
    """Point the settings and the AWS variables at a fresh prefix of the test bucket, as a
    deployment sets DATAGRAN_ARTIFACTS_URL; returns the prefix."""
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    prefix = f"run-{uuid.uuid4().hex[:10]}"
    settings.DATAGRAN = {**settings.DATAGRAN, "ARTIFACTS_URL": f"s3://{s3.bucket}/{prefix}",
                         "ARTIFACTS_OPTIONS": options.get("options", "")}
    return prefix


@pytest.fixture
def s3_prefix(s3_server: S3Server, settings: Any,  # noqa: F811
              monkeypatch: pytest.MonkeyPatch) -> str:
    return use_s3(s3_server, settings, monkeypatch)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, settings: Any, tmp_path: Any,
          monkeypatch: pytest.MonkeyPatch) -> ArtifactStore:
    """Without the in-memory table memo, so every read really goes to the backend."""
    settings.DATAGRAN = {**settings.DATAGRAN, "TABLE_MEMO_BYTES": 0}
    if request.param == "s3":
        use_s3(request.getfixturevalue("s3_server"), settings, monkeypatch)
    else:
        settings.DATAGRAN = {**settings.DATAGRAN, "ARTIFACTS_URL": str(tmp_path / "artifacts"),
                             "ARTIFACTS_OPTIONS": ""}
    return artifact_store()
