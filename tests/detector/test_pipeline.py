from __future__ import annotations

import json

import jsonschema
import pytest

from detector.pipeline import analyze
from tests.conftest import jpeg_bytes, png_bytes, wav_bytes
from web.openapi import REPORT


def _analyze(path, settings):
    r = analyze(path, settings=settings).to_dict()
    jsonschema.validate(r, REPORT)
    json.dumps(r)  # JSON-serialisable, no numpy leftovers
    return r


def test_good_media_of_each_type(tmp_path, settings, rng) -> None:
    files = {
        "a.png": png_bytes(rng), "b.jpg": jpeg_bytes(rng), "c.wav": wav_bytes(rng),
        "d.txt": (b"We walked up past the old quarry on Sunday, later than planned, because Ana had lost her "
                  b"keys in the car park and we spent twenty minutes searching under seats. The fog never "
                  b"lifted; by the ridge we could see perhaps thirty metres, and the wind made talking "
                  b"pointless, so we ate our sandwiches in silence behind a wall and came down early."),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        r = _analyze(tmp_path / name, settings)
        assert r["status"] == "done", r["error"]
        assert r["media_type"] == {"png": "image", "jpg": "image", "wav": "audio", "txt": "text"}[name[-3:]]
        # No provenance, and no detector above its published threshold on these plain inputs.
        assert r["verdict"]["label"] == "inconclusive", r["verdict"]["reasons"]
        assert r["detectors"] and all(d["status"] in ("ok", "skipped") for d in r["detectors"])
        assert r["models"]["pipeline"]


def test_bad_inputs_become_error_reports(tmp_path, settings, bad_inputs) -> None:
    for name, data in bad_inputs.items():
        (tmp_path / name).write_bytes(data)
        r = _analyze(tmp_path / name, settings)
        assert r["status"] == "error", name
        assert r["error"] and "Traceback" not in r["error"]
        assert r["verdict"] is None


def test_c2pa_fixtures_through_the_pipeline(c2pa_fixtures, settings) -> None:
    from detector.provenance.c2pa import read_c2pa
    from detector.types import to_jsonable

    by_name = {}
    for f in sorted(c2pa_fixtures.iterdir()):
        if f.suffix.lower() not in (".jpg", ".wav", ".mp4"):
            continue
        r = _analyze(f, settings)
        assert r["status"] == "done", (f.name, r["error"])
        direct = to_jsonable(read_c2pa(f))
        assert r["provenance"]["c2pa"]["state"] == direct["state"]
        assert r["provenance"]["c2pa"]["failures"] == direct["failures"]
        # None of these third-party files carries a generator watermark (C.jpg, a smooth gradient,
        # once read as provscan-marked and got the label "synthetic").
        assert not any(w["detected"] for w in r["provenance"]["watermarks"]), f.name
        by_name[f.name] = r
    assert by_name["XCA.jpg"]["provenance"]["c2pa"]["state"] == "Invalid"
    assert "assertion.dataHash.mismatch" in by_name["XCA.jpg"]["provenance"]["c2pa"]["failures"]
    assert by_name["CA.jpg"]["provenance"]["c2pa"]["state"] == "Valid"
    assert by_name["A.jpg"]["provenance"]["c2pa"]["present"] is False
    # C.jpg's manifest declares algorithmicMedia (not generative AI): nothing says synthetic.
    assert by_name["C.jpg"]["verdict"]["label"] == "inconclusive"


def test_pdf_reports_error_but_keeps_provenance(c2pa_fixtures, settings) -> None:
    r = _analyze(c2pa_fixtures / "pdf-file.pdf", settings)
    assert r["status"] == "error" and "not analysed" in r["error"]
    assert "c2pa" in r["provenance"]


def test_same_bytes_same_report(tmp_path, settings, rng) -> None:
    (tmp_path / "x.png").write_bytes(png_bytes(rng))
    a, b = (_analyze(tmp_path / "x.png", settings) for _ in range(2))
    for r in (a, b):
        for k in ("id", "created_at"):
            r.pop(k)
        r["provenance"].pop("elapsed_ms")
    assert a == b


@pytest.mark.parametrize("missing", ["nope.jpg"])
def test_missing_file(tmp_path, settings, missing) -> None:
    r = analyze(tmp_path / missing, settings=settings).to_dict()
    assert r["status"] == "error" and "cannot read" in r["error"]
