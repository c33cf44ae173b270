"""Working the reviewer queue in real headless Chromium against a real `provscan serve`.

The flagged items are real generator output, C2PA-signed and watermarked by `provscan generate`
(so their verdict is "synthetic"), analysed by the server's embedded worker.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from tests.conftest import run_cli

pytestmark = pytest.mark.browser


def generate(served, tmp: Path, modality: str, generator: str, suffix: str) -> Path:
    out = run_cli("generate", "--modality", modality, "--count", "1", "--out", str(tmp / modality),
                  "--generators", generator, "--seed", "3", env=served["env"], timeout=300)
    assert out.returncode == 0, out.stderr
    (path,) = (tmp / modality).rglob(f"*{suffix}")
    return path


def upload_and_wait(served, path: Path) -> dict:
    auth = {"Authorization": f"Bearer {served['key']}"}
    with open(path, "rb") as f:
        resp = requests.post(served["url"] + "/api/v1/scans", files={"file": (path.name, f)}, headers=auth, timeout=30)
    assert resp.status_code == 202, resp.text
    url = served["url"] + resp.json()["status_url"]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        report = requests.get(url, headers=auth, timeout=30).json()
        if report["status"] in ("done", "error"):
            return report
        time.sleep(0.5)
    raise AssertionError("scan not finished:\n" + served["log"].read_text()[-3000:])


def js_errors(browser) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_review_queue_evidence_and_decision(served, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 180)
    image = generate(served, tmp_path, "image", "procedural_scene", ".png")

    # Upload the image through the page, as a person would.
    browser.get(served["url"] + "/")
    browser.find_element(By.ID, "file").send_keys(str(image))
    browser.find_element(By.ID, "submit").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "Done"))
    scan_id = browser.current_url.rstrip("/").rsplit("/", 1)[-1]
    assert browser.find_element(By.ID, "verdict").text.startswith("synthetic")

    # The queue lists it as pending; its link opens the scan page.
    browser.get(served["url"] + "/review")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-scan-id="{scan_id}"]')
    assert "synthetic" in row.text and "pending" in row.find_element(By.CSS_SELECTOR, ".review-state").text
    assert "C2PA" in row.find_element(By.CSS_SELECTOR, ".reason").text
    row.find_element(By.CSS_SELECTOR, "a.scan-link").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "Done"))

    # Evidence: the image with the heatmap drawn over it, a legend and a working toggle.
    canvas = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".heatmap-canvas[data-ready='1']")))
    img = browser.find_element(By.CSS_SELECTOR, ".evidence-image img.scanned")
    assert browser.execute_script("return arguments[0].naturalWidth", img) > 0
    assert canvas.size["width"] == img.size["width"] and canvas.size["height"] == img.size["height"]
    # Some cell is painted (alpha > 0) in the centre of the analysed box.
    painted = browser.execute_script(
        "const c = arguments[0]; return c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data[3];",
        canvas)
    assert painted > 0
    assert browser.find_elements(By.CSS_SELECTOR, ".evidence-image .legend-bar")
    toggle = browser.find_element(By.CSS_SELECTOR, ".heatmap-toggle")
    toggle.send_keys(Keys.SPACE)  # keyboard, not the mouse
    assert not canvas.is_displayed()
    toggle.send_keys(Keys.SPACE)
    assert canvas.is_displayed()

    # Review with the keyboard: pick a decision, write a note, submit.
    radio = browser.find_element(By.CSS_SELECTOR, '#review-form input[value="partially_synthetic"]')
    radio.send_keys(Keys.SPACE)
    note = browser.find_element(By.ID, "review-note")
    note.send_keys("sky looks pasted")
    browser.find_element(By.ID, "review-submit").send_keys(Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "review-saved"), "Saved: partially synthetic"))
    assert "sky looks pasted" in browser.find_element(By.ID, "review-saved").text

    # Saved for real: a reload shows it, the API reports it, and the queue moved it to "reviewed".
    browser.refresh()
    wait.until(ec.text_to_be_present_in_element((By.ID, "review-saved"), "Saved: partially synthetic"))
    assert browser.find_element(By.CSS_SELECTOR, 'input[value="partially_synthetic"]').is_selected()
    api = requests.get(f"{served['url']}/api/v1/scans/{scan_id}",
                       headers={"Authorization": f"Bearer {served['key']}"}, timeout=30).json()
    assert api["review"]["decision"] == "partially_synthetic" and api["review"]["reviewer"] == "local"
    assert not browser.find_element(By.ID, "review-history-box").is_displayed()  # one decision: no history

    # A second opinion replaces the shown decision; the first moves to "Earlier decisions".
    browser.find_element(By.CSS_SELECTOR, '#review-form input[value="synthetic"]').send_keys(Keys.SPACE)
    browser.find_element(By.ID, "review-submit").send_keys(Keys.ENTER)
    wait.until(ec.text_to_be_present_in_element((By.ID, "review-saved"), "Saved: synthetic"))
    box = browser.find_element(By.ID, "review-history-box")
    assert box.is_displayed()
    box.find_element(By.TAG_NAME, "summary").click()
    (earlier,) = box.find_elements(By.CSS_SELECTOR, "#review-history li")
    assert earlier.text.startswith("partially synthetic by local") and "sky looks pasted" in earlier.text
    browser.refresh()
    wait.until(ec.text_to_be_present_in_element((By.ID, "review-saved"), "Saved: synthetic"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#review-history li")) == 1
    browser.get(served["url"] + "/review")
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-scan-id="{scan_id}"]')
    browser.get(served["url"] + "/review?state=reviewed")
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-scan-id="{scan_id}"]')
    assert "synthetic" in row.text and "partially" not in row.text  # the latest decision
    assert js_errors(browser) == []
    browser.save_screenshot(str(tmp_path / "review.png"))


def test_audio_timeline_and_text_highlights(served, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 120)
    voice = upload_and_wait(served, generate(served, tmp_path, "voice", "espeak_ng", ".wav"))
    text = upload_and_wait(served, generate(served, tmp_path, "text", "text-gru", ".txt"))
    assert voice["verdict"]["label"] == "synthetic" and text["verdict"]["label"] == "synthetic"

    browser.get(f"{served['url']}/scans/{voice['id']}")
    wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "Done"))
    (cnn,) = [d for d in voice["detectors"] if d["name"] == "audio-lfcc-cnn"]
    bars = browser.find_elements(By.CSS_SELECTOR, ".evidence-audio svg.timeline rect.segment")
    assert len(bars) == len(cnn["evidence"]["segments"]) > 0
    first = cnn["evidence"]["segments"][0]
    assert bars[0].find_element(By.TAG_NAME, "title").get_attribute("textContent") == \
        f"{first['start']:.2f}–{first['end']:.2f} s: P(synthetic) {first['score']:.3f}"
    # The player loads the stored WAV through the authenticated media endpoint.
    wait.until(lambda b: b.execute_script("return document.getElementById('player').readyState") >= 1)
    assert browser.execute_script("return document.getElementById('player').duration") > 0

    browser.get(f"{served['url']}/scans/{text['id']}")
    wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "Done"))
    spans = wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#text-highlight span.tok"))
    (lm,) = [d for d in text["detectors"] if d["name"] == "text-lm-logreg"]
    assert len(spans) == len(lm["evidence"]["highlight"])
    assert spans[0].get_attribute("class") == "tok bucket-" + lm["evidence"]["highlight"][0]["bucket"]
    # The generator watermarked it: the token map shows mostly green words.
    green = browser.find_elements(By.CSS_SELECTOR, ".wm-map span.wm-green")
    red = browser.find_elements(By.CSS_SELECTOR, ".wm-map span.wm-red")
    assert len(green) > len(red)
    assert js_errors(browser) == []
    browser.save_screenshot(str(tmp_path / "text.png"))


def test_heatmap_lines_up_on_an_exif_rotated_photo(served, browser, tmp_path, rng) -> None:
    """The detector reads stored pixels without EXIF rotation; the overlay must match them."""
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    Image.fromarray(rng.integers(0, 256, (120, 240, 3), dtype="uint8")).save(path, exif=exif.tobytes())
    report = upload_and_wait(served, path)
    browser.get(f"{served['url']}/scans/{report['id']}")
    canvas = WebDriverWait(browser, 120).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".heatmap-canvas[data-ready='1']")))
    img = browser.find_element(By.CSS_SELECTOR, ".evidence-image img.scanned")
    assert (canvas.get_attribute("width"), canvas.get_attribute("height")) == ("240", "120")
    assert img.size["width"] > img.size["height"]  # shown unrotated, like the detector saw it
    assert canvas.size == img.size
    assert js_errors(browser) == []
