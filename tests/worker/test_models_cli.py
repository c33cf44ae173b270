from __future__ import annotations

import os

import pytest

from tests.conftest import run_cli
from worker.models import MODELS


def test_models_list_shows_every_registered_model() -> None:
    out = run_cli("models", "list")
    assert out.returncode == 0
    for m in MODELS:
        assert m.name in out.stdout


@pytest.mark.slow
def test_build_missing_text_ngram_from_scratch(tmp_path) -> None:
    env = dict(os.environ, PROVSCAN_MODELS_DIR=str(tmp_path / "models"), PROVSCAN_DATA_DIR=str(tmp_path / "d"))
    out = run_cli("models", "build", "text-ngram", env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "models" / "generators" / "text-ngram.npz").stat().st_size > 100_000
    assert (tmp_path / "models" / "generators" / "text-ngram.yaml").exists()
    again = run_cli("models", "build", "text-ngram", "--missing-only", env=env)
    assert again.returncode == 0 and "nothing to build" in again.stderr
    assert run_cli("models", "build", "nope", env=env).returncode == 2


def test_build_by_kind_selects_only_that_kind(tmp_path) -> None:
    import shutil

    from tests.conftest import REPO

    # Every model present: the detector kind has nothing left to build.
    shutil.copytree(REPO / "models", tmp_path / "models")
    env = dict(os.environ, PROVSCAN_MODELS_DIR=str(tmp_path / "models"), PROVSCAN_DATA_DIR=str(tmp_path / "d"))
    out = run_cli("models", "build", "--kind", "detector", "--missing-only", env=env)
    assert out.returncode == 0 and "nothing to build" in out.stderr
    assert run_cli("models", "build", "--kind", "vocoder", env=env).returncode == 2
    for bad in ("0", "two"):
        out = run_cli("models", "build", "--jobs", bad, env=env)
        assert out.returncode == 2 and "--jobs" in out.stderr and "Traceback" not in out.stderr

    from detector.settings import Settings
    from worker.models import find, plan

    settings = Settings.from_env({"PROVSCAN_MODELS_DIR": str(tmp_path / "models"),
                                  "PROVSCAN_DATA_DIR": str(tmp_path / "d")})
    names = lambda **kw: [m.name for m in plan(settings, **kw)]  # noqa: E731
    assert names(kind="detector") == ["image-residual-cnn", "audio-lfcc-cnn", "text-lm-logreg"]
    assert set(names(kind="generator")) == {m.name for m in MODELS if m.kind == "generator"}
    find("text-lm-logreg").path(tmp_path / "models").unlink()
    assert names(kind="detector", missing_only=True) == ["text-lm-logreg"]
    assert names(kind="generator", missing_only=True) == []
    # A detector's missing generator is built first, even under --kind detector.
    find("text-ngram").path(tmp_path / "models").unlink()
    assert names(kind="detector", missing_only=True) == ["text-ngram", "text-lm-logreg"]



def test_parallel_build_prepares_once_then_builds_in_child_processes(tmp_path, monkeypatch) -> None:
    from detector.settings import Settings
    from worker import models

    monkeypatch.setenv("PROVSCAN_DATA_DIR", str(tmp_path / "d"))
    settings = Settings.from_env({"PROVSCAN_MODELS_DIR": str(tmp_path / "models"),
                                  "PROVSCAN_DATA_DIR": str(tmp_path / "d")})
    fx = "tests.worker.build_fixtures"
    prep = (f"{fx}:prepare",)
    fakes = [models.ModelSpec(f"fake-{i}", "detector", f"detectors/fake-{i}.pt", f"{fx}:write_pid", "test",
                              prepare=prep) for i in range(3)]
    monkeypatch.setattr(models, "MODELS", fakes)
    assert models.build(settings, jobs=2, seed=4) == ["fake-0", "fake-1", "fake-2"]
    built = list((tmp_path / "models" / "detectors").glob("fake-*-4.txt"))
    pids = {int(p.read_text()) for p in built}
    assert len(built) == 3
    # Three builds, at most two processes, none of them this one; the shared step ran once, here.
    assert 1 <= len(pids) <= 2 and os.getpid() not in pids
    assert (tmp_path / "d" / "prepared").read_text().split() == [str(os.getpid())]

    broken = models.ModelSpec("broken", "detector", "detectors/broken.pt", f"{fx}:fail", "test", prepare=prep)
    monkeypatch.setattr(models, "MODELS", [broken, *fakes])
    with pytest.raises(RuntimeError, match="model build failed: broken"):
        models.build(settings, jobs=2, seed=5)
    # The others still finished.
    assert len(list((tmp_path / "models" / "detectors").glob("fake-*-5.txt"))) == 3
