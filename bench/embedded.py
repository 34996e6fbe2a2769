"""What the embedded-mode benchmarks share: Django set up on a fresh data folder, a user,
in-process Dramatiq worker threads, and running a pipeline to the end."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DATAGRAN_DATA_DIR"] = tempfile.mkdtemp(prefix="datagran-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datagran.settings")
os.environ.pop("BROKER_URL", None)
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

import dramatiq  # noqa: E402
from django.core.management import call_command  # noqa: E402

# How often a run is looked at to see whether it ended (its wall time does not depend on it).
POLL_SECONDS = 0.02


class Embedded:
    def __init__(self, threads: int = 4) -> None:
        call_command("migrate", verbosity=0)
        from django.contrib.auth import get_user_model

        from datagran.runs import tasks  # noqa: F401
        from datagran.workspaces.services import workspace_personal

        self.user = get_user_model().objects.create_user(f"bench{time.time_ns()}")
        self.workspace = workspace_personal(user=self.user)
        self.worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=threads,
                                      worker_timeout=100)
        self.worker.start()

    def pipeline(self, name: str, graph: dict[str, Any]) -> Any:
        from datagran.pipelines.services import pipeline_create

        return pipeline_create(workspace=self.workspace, user=self.user, name=name, graph=graph)

    def run(self, pipeline: Any, *, force: bool = True) -> tuple[float, Any]:
        """Start a run, wait for it; returns (wall seconds, the finished Run): from the call
        to the end the run recorded, which is when its page shows it finished. Before a forced
        run the process's table memo is emptied, so it reads, computes and writes every table
        as a first run does, not recognising the outputs of the run before; other runs find
        the memo as the server would after the runs before them."""
        from datagran.datasets.artifacts import artifact_store
        from datagran.runs.lifecycle import run_start
        from datagran.runs.models import Run

        if force:
            artifact_store().memo.clear()
        t = time.time()
        run = run_start(pipeline=pipeline, user=self.user, force=force)
        # The wall time ends when the run recorded itself finished (what its page shows),
        # not when this loop notices: polling more often would only take the worker
        # threads' CPU and interpreter lock.
        while not Run.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
            time.sleep(POLL_SECONDS)
        run = Run.objects.get(pk=run.pk)
        wall = run.finished_at.timestamp() - t
        if run.status != "succeeded":
            raise SystemExit(f"the benchmark run failed: {run.error}")
        return wall, run

    def upload(self, path: Path) -> str:
        from datagran.datasets.services import dataset_upload

        with open(path, "rb") as fh:
            dataset = dataset_upload(workspace=self.workspace, user=self.user, name=path.name,
                                     fileobj=fh, size=path.stat().st_size)
        return str(dataset.pk)

    def stop(self) -> None:
        self.worker.stop()
