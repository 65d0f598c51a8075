"""The image's build recipe: a hashed lock file covering the runtime dependencies (and nothing of the
extras), installed before the code is copied; hadolint checks the rest in scripts/test.sh."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, list[str]]:
    """package -> its hashes, from requirements.lock."""
    entries: dict[str, list[str]] = {}
    current = ""
    for line in (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==\S+", line):
            current = normalized(match.group(1))
            entries[current] = []
        elif match := re.search(r"--hash=sha256:([0-9a-f]{64})", line):
            entries[current].append(match.group(1))
    return entries


def test_the_lock_pins_every_runtime_dependency_with_hashes_and_no_extra() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {normalized(re.split(r"[<>=!~ \[;]", spec)[0]) for spec in project["project"]["dependencies"]}
    lock = locked()
    assert runtime <= set(lock), runtime - set(lock)
    assert {"setuptools", "wheel"} <= set(lock)  # the package is built from the lock, offline
    assert all(lock.values()), [name for name, hashes in lock.items() if not hashes]
    extras = project["project"]["optional-dependencies"]
    for extra in ("embedded", "plot", "parquet"):
        names = {normalized(re.split(r"[<>=!~ \[;]", spec)[0]) for spec in extras[extra]}
        assert not names & set(lock), f"the {extra} extra is in the production image"


def test_the_dockerfile_installs_hashed_dependencies_before_the_code_and_keeps_no_wheel() -> None:
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    base = next(line for line in lines if line.startswith("ARG PYTHON_IMAGE="))
    assert re.fullmatch(r"ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base)
    text = "\n".join(lines)
    assert text.index("COPY requirements.lock") < text.index("--require-hashes") < text.index("COPY etl")
    final_stage = text[text.rindex("FROM "):]
    assert "COPY --from=build /opt/k8s-cost-etl /opt/k8s-cost-etl" in final_stage
    assert ".whl" not in final_stage and "pip install" not in final_stage
