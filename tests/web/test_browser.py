"""The upload page in real headless Chromium against a real `provscan serve`."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_upload_shows_c2pa_state(served, browser, c2pa_fixtures, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served["url"] + "/")
    browser.find_element(By.ID, "file").send_keys(str(c2pa_fixtures / "CA.jpg"))
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 180).until(ec.text_to_be_present_in_element((By.ID, "status"), "Done"))
    assert browser.find_element(By.ID, "c2pa-state").text == "Valid"
    assert "CA.jpg" in browser.find_element(By.ID, "filename").text
    verdict = browser.find_element(By.ID, "verdict").text
    assert verdict.startswith("inconclusive")
    browser.save_screenshot(str(tmp_path / "scan.png"))


def test_upload_of_unsupported_file_shows_error(served, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    junk = tmp_path / "junk.png"
    junk.write_bytes(bytes(range(256)) * 16)
    browser.get(served["url"] + "/")
    browser.find_element(By.ID, "file").send_keys(str(junk))
    browser.find_element(By.ID, "submit").click()
    # The form posts and the server answers with a new page: wait for it, don't race the navigation.
    error = WebDriverWait(browser, 60).until(ec.presence_of_element_located((By.ID, "error")))
    assert "unsupported" in error.text
