"""The two-command set-up: what `make test`, `make run` and .ci/run do, checked without installing anything."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def make_dry_run(*args: str) -> list[str]:
    """The commands `make -n ARGS` would run from the repository root, one per line."""
    out = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=ROOT, capture_output=True,
                         text=True, check=True, stdin=subprocess.DEVNULL, timeout=30).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


def index_of(lines: list[str], fragment: str) -> int:
    """Index of the first line containing fragment (fails naming the lines when none does)."""
    for index, line in enumerate(lines):
        if fragment in line:
            return index
    raise AssertionError(f"{fragment!r} not among:\n" + "\n".join(lines))


def write_stub(path: Path, body: str) -> Path:
    """An executable bash script at path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/usr/bin/env bash\n" + body)
    path.chmod(0o755)
    return path


@needs_make
def test_make_test_on_a_fresh_machine_installs_everything_then_runs_pytest(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    lines = make_dry_run("test", f"VENV={venv}")
    steps = [
        index_of(lines, f"-m venv {venv}"),
        index_of(lines, f"{venv}/bin/python -m pip install -q -e ."),
        index_of(lines, "scripts/check-opencv.sh --fix"),
        index_of(lines, "scripts/vendor-leaflet.sh"),
        index_of(lines, "install -q -e '.[dev]'"),
        index_of(lines, "scripts/setup-test-deps.sh"),
        index_of(lines, "scripts/run-tests.sh"),
    ]
    assert steps == sorted(steps)
    assert lines[-1] == f"VENV={venv} bash scripts/run-tests.sh"
    assert make_dry_run("test", f"VENV={venv}", "PYTEST_ARGS=-k mqtt -x")[-1].endswith("run-tests.sh -k mqtt -x")


@needs_make
def test_make_run_installs_without_dev_extra_and_runs_the_ceuta_site(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    lines = make_dry_run("run", f"VENV={venv}")
    assert index_of(lines, "pip install -q -e .") < index_of(lines, "hacho run")
    assert lines[-1] == f"{venv}/bin/hacho run -c config/ceuta"
    assert not any("[dev]" in line or "setup-test-deps" in line for line in lines)
    assert make_dry_run("run", f"VENV={venv}", "CONFIG=/srv/site")[-1].endswith("hacho run -c /srv/site")


@needs_make
def test_second_make_test_installs_nothing(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    python = write_stub(venv / "bin" / "python", "exit 0\n")
    newer = max((ROOT / "pyproject.toml").stat().st_mtime, (ROOT / "package-lock.json").stat().st_mtime) + 10
    for path in (python, venv / ".installed", venv / ".installed-dev"):
        path.touch()
        os.utime(path, (newer, newer))
    assert make_dry_run("test", f"VENV={venv}") == [f"VENV={venv} bash scripts/run-tests.sh"]


def run_ci(tmp_path: Path, pytest_status: int, make_status: int = 0,
           contract_status: int = 0) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`bash .ci/run` with a make, a venv python and a lint-imports that only record what they were asked."""
    log = tmp_path / "calls.log"
    write_stub(tmp_path / "bin" / "make", f'echo "make $*" >> {log}\nexit {make_status}\n')
    write_stub(tmp_path / "venv" / "bin" / "python",
               f'echo "python $* HACHO_REQUIRE_SERVICES=$HACHO_REQUIRE_SERVICES" >> {log}\nexit {pytest_status}\n')
    write_stub(tmp_path / "venv" / "bin" / "lint-imports", f'echo "lint-imports $*" >> {log}\nexit {contract_status}\n')
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "VENV": str(tmp_path / "venv"), "HACHO_REQUIRE_SERVICES": "0"}
    proc = subprocess.run(["bash", str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=30)
    return proc, log


@pytest.mark.parametrize("status", [0, 1, 5])
def test_ci_installs_requires_services_and_exits_with_pytests_status(tmp_path: Path, status: int) -> None:
    proc, log = run_ci(tmp_path, status)
    assert proc.returncode == status
    assert log.read_text().splitlines() == [
        f"make install-dev VENV={tmp_path / 'venv'}",
        "lint-imports --no-cache --no-logo",
        "python -m pytest --durations=20 HACHO_REQUIRE_SERVICES=1",
    ]
    assert f"pytest exit status {status}" in proc.stdout.splitlines()[-1]
    if status == 5:
        assert "collected no tests" in proc.stderr


def test_ci_fails_on_a_broken_import_contract_before_pytest(tmp_path: Path) -> None:
    proc, log = run_ci(tmp_path, 0, contract_status=1)
    assert proc.returncode == 4 and "import contract" in proc.stderr
    assert not any(line.startswith("python -m pytest") for line in log.read_text().splitlines())


def test_ci_stops_when_the_install_fails(tmp_path: Path) -> None:
    proc, log = run_ci(tmp_path, 0, make_status=2)
    assert proc.returncode == 2
    assert log.read_text().splitlines() == [f"make install-dev VENV={tmp_path / 'venv'}"]


def test_this_environment_has_one_opencv_build_and_cv2_imports() -> None:
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "check-opencv.sh"), sys.executable], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc.stderr
