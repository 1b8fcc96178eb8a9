"""The package as a clinic installs it: a wheel built from this tree, installed into a venv of its own at the
locked versions (constraints.txt), runs `check`, `serve` and `demo` with no checkout in reach (issue 14)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.broker import free_port
from tests.deploy.serving import room_file, start, stop, wait_until

ROOT = Path(__file__).resolve().parents[2]
# the interpreter deploy/install.sh makes the room's venv with: Debian's (python3-venv), where there is one
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
pytestmark = pytest.mark.slow


def _copy_tree(dest: Path) -> None:
    """The files git tracks or would track, as they are now (symlinks kept): a build never sees, or leaves,
    a stale build/ in the checkout."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_symlink() or source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name, follow_symlinks=False)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    _copy_tree(work / "src")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work / "dist"),
                    str(work / "src")], check=True)
    wheel, = (work / "dist").glob("room_controller-*.whl")
    subprocess.run([PYTHON, "-m", "venv", str(work / "venv")], check=True)
    subprocess.run([str(work / "venv" / "bin" / "python"), "-m", "pip", "install", "-q", "-c",
                    str(ROOT / "constraints.txt"), str(wheel)], check=True)
    return work / "venv"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def test_the_installed_package_is_the_wheel_not_this_checkout(venv, tmp_path):
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import room_controller; print(room_controller.__file__)"],
                           cwd=tmp_path, env=_env(), capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).is_relative_to(venv)
    data = Path(where.strip()).parent
    assert not (data / "web").is_symlink() and (data / "web" / "index.html").is_file()
    assert sorted(p.name for p in (data / "device_profiles").glob("*.yaml")) == \
        sorted(p.name for p in (ROOT / "device_profiles").glob("*.yaml"))
    assert sorted(p.name for p in (data / "demo" / "profiles").glob("*.yaml")) == \
        sorted(p.name for p in (ROOT / "deploy" / "profiles").glob("*.yaml"))
    assert (data / "demo" / "playlists" / "make_demo.py").is_file()
    assert not (data / "demo" / "playlists" / "demo").exists()   # the tracks are made, not shipped


def test_check_from_the_wheel_knows_the_built_in_device_families(venv, tmp_path, broker, room_id):
    config, _ = room_file(tmp_path, broker, room_id)
    result = subprocess.run([str(venv / "bin" / "room-controller"), "check", str(config)], cwd=tmp_path, env=_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems" in result.stdout


def test_serve_from_the_wheel_answers_health_and_serves_the_panel(venv, tmp_path, broker, room_id):
    config, port = room_file(tmp_path, broker, room_id)
    log = tmp_path / "serve.log"
    proc = start([str(venv / "bin" / "room-controller"), "serve", "--config", str(config)], tmp_path, log, _env())
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: requests.get(f"{base}/api/health", timeout=5).status_code == 200, "serve's health", proc,
                   log)
        page = requests.get(f"{base}/", timeout=5)
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert requests.get(f"{base}/static/js/main.js", timeout=5).status_code == 200
    finally:
        code = stop(proc)
    assert code == 0, log.read_text()


def test_the_demo_from_the_wheel_has_its_profiles_and_music(venv, tmp_path):
    """A technician trying the product on a laptop from the wheel gets the checkout's demo: the example
    profiles, and the demo music made once into the user's data folder (here XDG_DATA_HOME), not the package."""
    share = tmp_path / "share"
    env = {**_env(), "XDG_DATA_HOME": str(share), "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "demo.log"
    proc = start([str(venv / "bin" / "room-controller"), "demo", "--port", str(free_port())], tmp_path, log, env)
    try:
        wait_until(lambda: "stop with Ctrl-C" in log.read_text(), "the demo's start", proc, log, timeout=90)
        text = log.read_text()
        base = re.search(r"(http://127\.0\.0\.1:\d+)/", text).group(1)
        token = re.search(r"API token: (\S+)", text).group(1)
        auth = {"Authorization": f"Bearer {token}"}
        profiles = requests.get(f"{base}/api/profiles", headers=auth, timeout=5).json()
        assert sorted(p["id"] for p in profiles) == sorted(p.stem for p in (ROOT / "deploy" / "profiles").glob("*.yaml"))
        tracks = share / "room-controller" / "demo" / "playlists" / "demo"
        assert len(list(tracks.glob("*.ogg"))) == 6
        assert requests.post(f"{base}/api/presets/calm", headers=auth, timeout=5).status_code == 200

        def audio() -> dict:
            return requests.get(f"{base}/api/state", headers=auth, timeout=5).json()["audio"]

        wait_until(lambda: audio()["playing"], "calm's music", proc, log)
        playing = audio()
        assert Path(playing["file"]).parent == tracks and playing["problem"] is None, playing
    finally:
        code = stop(proc)
    assert code == 0, log.read_text()
    assert "Traceback" not in log.read_text()
