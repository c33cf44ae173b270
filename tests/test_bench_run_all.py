"""`make bench` (bench/run_all.py) runs every script it does not skip with no arguments."""

from __future__ import annotations

import ast
from pathlib import Path

from bench.run_all import HERE, SKIP


def _required_options(path: Path) -> list[str]:
    """Options an argparse parser in ``path`` marks ``required=True`` (a run without arguments fails)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
            if any(k.arg == "required" and getattr(k.value, "value", False) is True for k in node.keywords):
                found.append(ast.literal_eval(node.args[0]) if node.args else "?")
    return found


def test_run_all_skips_every_script_that_needs_arguments() -> None:
    needs = {p.name: _required_options(p) for p in sorted(HERE.glob("*.py")) if p.name not in SKIP}
    assert {name: opts for name, opts in needs.items() if opts} == {}
    # The check sees what it must: a skipped analysis with required options is found.
    assert _required_options(HERE / "audio_threshold_check.py")
    assert (HERE / "audio_source_cv.py").name in SKIP
