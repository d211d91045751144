"""The devnet the integration tests run against.

``BILLFLOW_DEVNET_JSON`` names a running devnet's ``devnet.json``; without it
the session starts one with ``billflow-devnet`` (``BILLFLOW_DEVNET_BIN``,
default ``target/debug/billflow-devnet`` of the repository) in a temporary
directory, on free ports, and stops it at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import billflow

REPO = Path(__file__).resolve().parents[3]
READY_WITHIN_S = 300


def _start_devnet(directory: Path) -> tuple[subprocess.Popen[str], Path]:
    binary = Path(os.environ.get("BILLFLOW_DEVNET_BIN") or REPO / "target" / "debug" / "billflow-devnet")
    if not binary.is_absolute():
        binary = REPO / binary
    if not binary.is_file():
        pytest.exit(f"{binary} not found: build it, or set BILLFLOW_DEVNET_BIN or BILLFLOW_DEVNET_JSON", 2)
    log_path = directory.parent / "devnet.log"
    proc = subprocess.Popen(
        [str(binary), "--dir", str(directory), "--base-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        with log_path.open("w") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None or "setting it up failed" in line:
            _stop_devnet(proc, directory / "devnet.json")
            pytest.exit(f"the devnet did not start; see {log_path}", 2)
        if line.startswith("ready:"):
            return proc, directory / "devnet.json"
    _stop_devnet(proc, directory / "devnet.json")
    pytest.exit(f"the devnet was not ready within {READY_WITHIN_S} s; see {log_path}", 2)


def _stop_devnet(proc: subprocess.Popen[str], devnet_json: Path) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the devnet stops its nodes
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # Nodes the devnet could not stop (it was killed): they are ours, by pid.
    if devnet_json.is_file():
        for node in json.loads(devnet_json.read_text()).get("nodes", []):
            pid = node.get("pid")
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def devnet_json(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    given = os.environ.get("BILLFLOW_DEVNET_JSON")
    if given:
        yield Path(given)
        return
    proc, path = _start_devnet(tmp_path_factory.mktemp("devnet-run") / "devnet")
    try:
        yield path
    finally:
        _stop_devnet(proc, path)


@pytest.fixture(scope="session")
def devnet(devnet_json: Path) -> dict[str, Any]:
    return json.loads(devnet_json.read_text())


@pytest.fixture(scope="session")
def client(devnet_json: Path) -> Iterator[billflow.Client]:
    """The devnet's tenant platform."""
    with billflow.Client.from_devnet(devnet_json) as c:
        yield c


@pytest.fixture(scope="session")
def as_(devnet_json: Path) -> Iterator[Callable[[str], billflow.Client]]:
    """A client signing as a participant or organisation of the devnet."""
    made: dict[str, billflow.Client] = {}

    def make(who: str) -> billflow.Client:
        if who not in made:
            made[who] = billflow.Client.from_devnet(devnet_json, as_participant=who)
        return made[who]

    yield make
    for c in made.values():
        c.close()
