"""Real ``k8s-cost-etl`` processes started together, for races, signals and dependency faults."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tests.support.servers import REPO_ROOT


@dataclass
class Finished:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"{' '.join(self.args)} -> {self.returncode}\n{self.stdout}\n{self.stderr}"


def start(args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "etl", *args], cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[str], timeout: float = 300) -> Finished:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    args = [str(arg) for arg in process.args[3:]]  # type: ignore[index]
    return Finished(args, process.returncode, out, err)


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)


def stop(process: subprocess.Popen[str], signum: int = signal.SIGTERM, timeout: float = 120) -> Finished:
    if process.poll() is None:
        process.send_signal(signum)
    return finish(process, timeout)
