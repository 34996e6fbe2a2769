"""Settings of the artifact store: where each backend puts its objects, and a bad bucket,
bad credentials or a bad URL are errors that name the setting to fix."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datagran.datasets.artifacts import StorageSettingError, artifact_store
from datagran.datasets.checks import artifacts_reachable_check, artifacts_url_check
from tests.s3 import S3Server

from .conftest import use_s3


def test_the_local_store_is_a_plain_folder_with_the_layout_it_always_had(
        settings: Any, tmp_path: Path) -> None:
    settings.DATAGRAN = {**settings.DATAGRAN, "ARTIFACTS_URL": str(tmp_path)}
    digest = artifact_store().put_file(b"abc")
    assert (tmp_path / "files" / digest[:2] / f"{digest}.bin").read_bytes() == b"abc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]


def test_s3_objects_are_keyed_by_hash_under_the_prefix(
        s3_server: S3Server, s3_prefix: str) -> None:
    store = artifact_store()
    digest = store.put_file(b"abc")
    store.touch([{"kind": "file", "hash": digest}])
    key = f"{s3_prefix}/files/{digest[:2]}/{digest}.bin"
    assert s3_server.keys(s3_prefix) == {key: 3, f"{s3_prefix}/last-used/files/"
                                         f"{digest[:2]}/{digest}.bin": 0}
    assert s3_server.client().get_object(Bucket=s3_server.bucket, Key=key)["Body"].read() \
        == b"abc"


def test_a_missing_bucket_is_an_error_naming_the_setting_and_the_bucket(
        s3_server: S3Server, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_s3(s3_server, settings, monkeypatch)
    settings.DATAGRAN = {**settings.DATAGRAN, "ARTIFACTS_URL": "s3://no-such-bucket/x"}
    with pytest.raises(StorageSettingError) as caught:
        artifact_store().put_file(b"abc")
    assert caught.value.message.startswith("DATAGRAN_ARTIFACTS_URL: the bucket "
                                           "'no-such-bucket' of s3://no-such-bucket/x does "
                                           "not exist")
    assert list(caught.value.extra["fields"]) == ["DATAGRAN_ARTIFACTS_URL"]
    [error] = artifacts_reachable_check(None)
    assert error.id == "datagran.E021" and "'no-such-bucket'" in error.msg


@pytest.mark.parametrize("secret", ["wrong-secret", None])
def test_wrong_credentials_are_an_error_naming_the_setting_and_the_variables(
        s3_server: S3Server, settings: Any, monkeypatch: pytest.MonkeyPatch,
        secret: str | None) -> None:
    # A key the server does not know, then the right key with a wrong secret.
    key = "AKIAWRONGWRONGWRONG" if secret is None else s3_server.key
    use_s3(s3_server, settings, monkeypatch)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret or "whatever")
    # A fresh filesystem reads the variables again (fsspec caches one per set of options).
    settings.DATAGRAN = {**settings.DATAGRAN,
                         "ARTIFACTS_OPTIONS": '{"skip_instance_cache": true}'}
    with pytest.raises(StorageSettingError) as caught:
        artifact_store().put_file(b"abc")
    message = caught.value.message
    assert message.startswith("DATAGRAN_ARTIFACTS_URL: s3://datagran-test/")
    assert "refused access (" in message and "AWS_SECRET_ACCESS_KEY" in message
    # A HEAD request's refusal has no body: S3 says only "Forbidden".
    assert "refused access (Forbidden)" in message
    assert "whatever" not in message and s3_server.secret not in message


def test_missing_credentials_are_an_error_naming_the_variables(
        s3_server: S3Server, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_s3(s3_server, settings, monkeypatch)
    settings.DATAGRAN = {**settings.DATAGRAN,
                         "ARTIFACTS_OPTIONS": '{"key": "AKIAONLYTHEKEY"}'}
    with pytest.raises(StorageSettingError) as caught:
        artifact_store().put_file(b"abc")
    assert caught.value.message.startswith("DATAGRAN_ARTIFACTS_URL: no credentials, or "
                                           "incomplete ones, to reach s3://datagran-test/")
    assert "PartialCredentialsError" in caught.value.message


def test_the_deploy_check_passes_when_the_store_answers(s3_prefix: str) -> None:
    assert artifacts_url_check(None) == [] and artifacts_reachable_check(None) == []
    assert list(artifact_store().artifacts()) == []  # the probe object is gone


@pytest.mark.parametrize(("url", "options", "expected"), [
    ("nosuchscheme://bucket/x", "", "DATAGRAN_ARTIFACTS_URL: cannot open nosuchscheme://"),
    ("s3://bucket/x", "[1, 2]", "DATAGRAN_ARTIFACTS_OPTIONS: must be a JSON object"),
    ("s3://bucket/x", "{nope", "DATAGRAN_ARTIFACTS_OPTIONS: must be a JSON object"),
])
def test_a_bad_url_or_bad_options_fail_the_start_up_check(
        settings: Any, url: str, options: str, expected: str) -> None:
    settings.DATAGRAN = {**settings.DATAGRAN, "ARTIFACTS_URL": url,
                         "ARTIFACTS_OPTIONS": options}
    [error] = artifacts_url_check(None)
    assert error.id == "datagran.E020" and error.msg.startswith(expected), error.msg
