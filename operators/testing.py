"""Running an operator outside Datagran: in plain Python, a notebook or a unit test.

    from operators import LocalContext, get_operator

    op = get_operator("transform.sample")
    out = op.run(LocalContext(), op.parse_params({"n": 5}), table=df)
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import BaseModel

from .base import OperatorError, TrainedModel
from .context import Context, Interrupts
from .schema import Schema, schema_of


@dataclass
class LocalContext:
    """A context for plain Python use and unit tests: datasets from a dict, logs to a list."""

    seed: int = 0
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    progress_values: list[float] = field(default_factory=list)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    connections: dict[str, BaseModel] = field(default_factory=dict)
    url_allowlist: list[str] = field(default_factory=list)
    sqlite_root: str | None = None
    files_root: str | None = None
    approved: bool = False
    send_log: dict[str, str] = field(default_factory=dict)
    # record key -> (content hash, batch key) of batches being sent
    sending: dict[str, tuple[str, str]] = field(default_factory=dict)
    emails: list[dict[str, Any]] = field(default_factory=list)
    models: dict[str, TrainedModel] = field(default_factory=dict)
    interrupts: Interrupts = field(default_factory=Interrupts)
    send_lock: Any = field(default_factory=threading.Lock)
    # Incremental sources: {state key: state} as the last succeeded run left it. A test that
    # runs a source twice on one context sees the second run continue from the first.
    full_refresh: bool = False
    source_states: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_reports: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    known_schemas: dict[str, Schema] = field(default_factory=dict)
    # Batch scoring: {pipeline name: the function scoring its rows}.
    scorers: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = field(default_factory=dict)

    def on_interrupt(self, callback: Callable[[], None]) -> Any:
        return self.interrupts.on_interrupt(callback)

    def log(self, message: str) -> None:
        self.logs.append(message)

    def previous_source_state(self, state_key: str) -> dict[str, Any] | None:
        return None if self.full_refresh else self.source_states.get(state_key)

    def record_source(self, report: dict[str, Any]) -> None:
        self.source_reports.append(report)
        self.source_states[report["state_key"]] = report["state"]

    def known_schema(self, state_key: str) -> Schema | None:
        return self.known_schemas.get(state_key)

    def put_table(self, df: pd.DataFrame) -> str:
        digest = hashlib.sha256(pd.util.hash_pandas_object(df, index=False).values.tobytes()
                                + ",".join(map(str, df.columns)).encode()).hexdigest()
        self.tables[digest] = df.copy()
        return digest

    def get_table(self, digest: str) -> pd.DataFrame | None:
        table = self.tables.get(digest)
        return None if table is None else table.copy()

    def connection(self, connection_id: str, kind: str | list[str]) -> BaseModel:
        conn = self.connections.get(connection_id)
        if conn is None:
            raise OperatorError(f"Connection {connection_id!r} does not exist.",
                                field="connection")
        return conn

    def sent_before(self, records: dict[str, str]) -> set[str]:
        return {key for key, digest in records.items() if self.send_log.get(key) == digest}

    def mark_sent(self, records: dict[str, str]) -> None:
        self.send_log.update(records)
        for key in records:
            self.sending.pop(key, None)

    def in_flight(self, records: dict[str, str]) -> dict[str, str]:
        return {key: self.sending[key][1] for key, digest in records.items()
                if key in self.sending and self.sending[key][0] == digest}

    def mark_in_flight(self, records: dict[str, str], batch_key: str) -> None:
        self.sending.update({key: (digest, batch_key) for key, digest in records.items()})

    def clear_in_flight(self, keys: list[str]) -> None:
        for key in keys:
            self.sending.pop(key, None)

    @contextmanager
    def sending_alone(self) -> Iterator[None]:
        with self.send_lock:
            yield

    def registered_model(self, name: str, *, alias: str | None = None,
                         version: int | None = None,
                         fallback_to_latest: bool = True) -> TrainedModel:
        if name not in self.models:
            raise OperatorError(f"No registered model named {name!r}.", field="model")
        return self.models[name]

    def registered_model_hash(self, name: str, **kwargs: Any) -> str:
        return str(id(self.registered_model(name)))

    def registered_model_schema(self, name: str) -> Schema | None:
        model = self.models.get(name)
        return None if model is None else model.features + [{"name": model.target,
                                                               "type": "str"}]

    def deployment_scorer(self, pipeline: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
        if pipeline not in self.scorers:
            raise OperatorError(f"No pipeline named {pipeline!r} serves here.",
                                field="pipeline")
        return self.scorers[pipeline]

    def deployment_answer(self, pipeline: str) -> Schema | None:
        return None

    def send_email(self, *, to: list[str], subject: str, body: str,
                   attachments: list[tuple[str, bytes, str]]) -> None:
        self.emails.append({"to": to, "subject": subject, "body": body,
                            "attachments": attachments})

    def progress(self, fraction: float) -> None:
        self.progress_values.append(fraction)

    def read_dataset(self, dataset_id: str) -> pd.DataFrame:
        try:
            return self.datasets[dataset_id]
        except KeyError:
            raise OperatorError(f"Dataset {dataset_id} does not exist.", field="dataset") from None

    def dataset_schema(self, dataset_id: str) -> Schema | None:
        df = self.datasets.get(dataset_id)
        return None if df is None else schema_of(df)

    def dataset_fingerprint(self, dataset_id: str) -> str:
        df = self.read_dataset(dataset_id)
        return str(int(pd.util.hash_pandas_object(df, index=False).sum()))

    def save_file(self, filename: str, data: bytes, content_type: str) -> None:
        self.files[filename] = (data, content_type)

    def save_file_from(self, filename: str, path: str, content_type: str,
                       digest: str | None = None) -> None:
        with open(path, "rb") as fh:
            self.save_file(filename, fh.read(), content_type)
        os.unlink(path)


def _is_a_context(ctx: LocalContext) -> Context:
    """Never called: mypy checks here that LocalContext has every capability of Context."""
    return ctx
