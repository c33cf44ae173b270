from __future__ import annotations

import json
import os

from tests.conftest import run_cli


def test_keys_create_prints_key_last(tmp_path) -> None:
    env = dict(os.environ, PROVSCAN_DATA_DIR=str(tmp_path / "d"))
    out = run_cli("keys", "create", "alice", env=env)
    assert out.returncode == 0, out.stderr
    key = out.stdout.split()[-1]
    assert key.startswith("psk_") and len(key) > 30
    listing = run_cli("keys", "list", env=env).stdout
    assert "alice" in listing and key not in listing
    assert run_cli("keys", "revoke", "alice", env=env).returncode == 0
    assert run_cli("keys", "create", "  ", env=env).returncode == 2


def test_scan_fixtures_json_lines(tmp_path, c2pa_fixtures) -> None:
    env = dict(os.environ, PROVSCAN_DATA_DIR=str(tmp_path / "d"))
    out = run_cli("scan", str(c2pa_fixtures), "--json", env=env)
    lines = out.stdout.splitlines()
    files = sorted(p for p in c2pa_fixtures.rglob("*") if p.is_file())
    assert len(lines) == len(files)  # one report per file, nothing else on stdout
    reports = {os.path.basename(r["filename"]): r for r in map(json.loads, lines)}
    assert reports["CA.jpg"]["provenance"]["c2pa"]["state"] == "Valid"
    assert reports["XCA.jpg"]["provenance"]["c2pa"]["state"] == "Invalid"
    assert reports["A.jpg"]["provenance"]["c2pa"]["present"] is False
    assert reports["pdf-file.pdf"]["status"] == "error"
    assert out.returncode == 1  # some files could not be analysed (the PDF)
    assert "Traceback" not in out.stderr


def test_scan_bad_inputs_and_missing_paths(tmp_path, bad_inputs) -> None:
    for name, data in bad_inputs.items():
        (tmp_path / name).write_bytes(data)
    env = dict(os.environ, PROVSCAN_DATA_DIR=str(tmp_path / "d"))
    out = run_cli("scan", *(str(tmp_path / n) for n in bad_inputs), "--json", env=env)
    reports = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(reports) == 4 and all(r["status"] == "error" and r["error"] for r in reports)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    missing = run_cli("scan", str(tmp_path / "nope.jpg"), env=env)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    # An empty folder (an unmounted archive, say) is said out loud, not a silent success.
    (tmp_path / "empty").mkdir()
    empty = run_cli("scan", str(tmp_path / "empty"), "--json", env=env)
    assert empty.returncode == 0 and empty.stdout == "" and "no files to scan under" in empty.stderr


def test_scan_through_a_running_service(served, c2pa_fixtures) -> None:
    out = run_cli("scan", str(c2pa_fixtures / "CA.jpg"), str(c2pa_fixtures / "XCA.jpg"), "--json",
                  "--api", served["url"], "--key", served["key"], env=served["env"], timeout=300)
    assert out.returncode == 0, out.stderr + served["log"].read_text()[-2000:]
    states = [json.loads(line)["provenance"]["c2pa"]["state"] for line in out.stdout.splitlines()]
    assert states == ["Valid", "Invalid"]
    bad = run_cli("scan", str(c2pa_fixtures / "CA.jpg"), "--api", served["url"], "--key", "psk_bad", env=served["env"])
    assert bad.returncode == 1 and "refused the API key" in bad.stderr


def test_sign_then_scan_trusted_only_with_our_ca(tmp_path, c2pa_fixtures) -> None:
    env = dict(os.environ, PROVSCAN_DATA_DIR=str(tmp_path / "d"))
    assert run_cli("sign", str(c2pa_fixtures / "A.jpg"), "--out", str(tmp_path / "s.jpg"), env=env).returncode == 0
    plain = json.loads(run_cli("scan", str(tmp_path / "s.jpg"), "--json", env=env).stdout)
    assert plain["provenance"]["c2pa"]["state"] == "Valid"
    assert "signingCredential.untrusted" in plain["provenance"]["c2pa"]["failures"]
    assert plain["verdict"]["label"] == "synthetic"
    env["PROVSCAN_TRUST_ANCHORS"] = str(tmp_path / "d" / "signing" / "ca.pem")
    trusted = json.loads(run_cli("scan", str(tmp_path / "s.jpg"), "--json", env=env).stdout)
    assert trusted["provenance"]["c2pa"]["state"] == "Trusted"


def test_keys_init_signing_and_import(tmp_path, c2pa_fixtures) -> None:
    env = dict(os.environ, PROVSCAN_DATA_DIR=str(tmp_path / "d"))
    d = tmp_path / "sig"
    out = run_cli("keys", "init-signing", "--dir", str(d), env=env)
    assert out.returncode == 0, out.stderr
    assert (d / "chain.pem").exists() and (d / "ca.pem").exists()
    assert oct((d / "signer.key").stat().st_mode & 0o777) == "0o600"
    assert "PRIVATE KEY" not in out.stdout + out.stderr  # keys are never printed
    again = run_cli("keys", "init-signing", "--dir", str(d), env=env)
    assert again.returncode == 1 and "exist" in again.stderr  # no silent overwrite without --force
    # An operator's own chain: the C2PA test chain from the fixtures.
    own = tmp_path / "own"
    imp = run_cli("keys", "init-signing", "--dir", str(own), "--cert", str(c2pa_fixtures / "es256_certs.pem"),
                  "--key", str(c2pa_fixtures / "es256_private.key"), env=env)
    assert imp.returncode == 0, imp.stderr
    env["PROVSCAN_SIGNING_DIR"] = str(own)
    assert run_cli("sign", str(c2pa_fixtures / "A.jpg"), "--out", str(tmp_path / "o.jpg"), env=env).returncode == 0
    env["PROVSCAN_TRUST_ANCHORS"] = str(c2pa_fixtures / "es256_certs.pem")
    r = json.loads(run_cli("scan", str(tmp_path / "o.jpg"), "--json", env=env).stdout)
    assert r["provenance"]["c2pa"]["state"] == "Trusted"
    assert run_cli("keys", "init-signing", "--cert", "x.pem", env=env).returncode == 2
