"""docker-compose.yml: valid Compose, and every command in it is one the project really has."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import REPO
from worker.cli import build_parser

COMPOSE = REPO / "docker-compose.yml"


def load() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_file_validates_with_docker_compose() -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose (Debian package docker-compose) is needed to validate the file; `make sysdeps`")
    env = dict(os.environ, PROVSCAN_SECRET_KEY="test-secret")
    out = subprocess.run([exe, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    resolved = yaml.safe_load(out.stdout)
    assert set(resolved["services"]) == {"redis", "postgres", "web", "worker"}
    # Without the secret the file refuses to start rather than running with a guessable key.
    env.pop("PROVSCAN_SECRET_KEY")
    bad = subprocess.run([exe, "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode != 0 and "PROVSCAN_SECRET_KEY" in bad.stderr


def test_services_have_healthchecks_and_volumes() -> None:
    services = load()["services"]
    for name, svc in services.items():
        assert "healthcheck" in svc, name
    for name in ("redis", "postgres", "web", "worker"):
        assert services[name].get("volumes"), name


def test_commands_are_the_cli_s_real_ones() -> None:
    services = load()["services"]
    parser = build_parser()
    for name in ("worker",):
        cmd = services[name]["command"]
        assert cmd[0] == "provscan"
        parser.parse_args(cmd[1:])  # raises SystemExit on an unknown sub-command or flag
    web_cmd = services["web"]["command"]
    assert web_cmd[0] == "gunicorn"
    module, attr = web_cmd[-1].split(":")
    assert module == "web.wsgi" and attr == "app"
    assert importlib.util.find_spec(module) is not None
    hc = " ".join(services["worker"]["healthcheck"]["test"])
    assert "worker.celery_app" in hc and importlib.util.find_spec("worker.celery_app") is not None
    env = services["web"]["environment"]
    assert env["REDIS_URL"].startswith("redis://") and env["DATABASE_URL"].startswith("postgresql://")


def test_dockerfile_copies_what_exists() -> None:
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (REPO / src).exists(), src
