"""End to end, as a student sees it: JupyterLab in headless Chromium, notebooks run, widgets live.

Starts the project's JupyterLab (the same venv ``make lab`` sets up) on a localhost port with a
token, serving a temporary copy of the notebooks (so nothing is saved into the committed files),
drives Debian's Chromium through chromedriver, runs every cell of each notebook, and checks:

- no cell shows an error or "Error displaying widget";
- sliders and images render;
- moving a slider with the keyboard changes a displayed image.

Screenshots land in tests/_artifacts/ for inspection, also when a check fails. The server is
always stopped.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "_artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL_HINT = "install it with `sudo apt-get install chromium chromium-driver`"
NOTEBOOKS = ["00_seeing_style.ipynb", "03_adain.ipynb"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                       reason=f"browser test NOT RUN: Chromium or chromedriver is missing; {INSTALL_HINT}"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab on a copy of the notebooks: yields (base_url, token)."""
    work = tmp_path_factory.mktemp("lab")
    for nb in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / nb, work / nb)
    port, token = _free_port(), "stylelab-e2e-token"
    env = dict(os.environ, STYLELAB_QUICK="1", JUPYTER_CONFIG_DIR=str(work / ".jupyter"),
               JUPYTER_RUNTIME_DIR=str(work / ".runtime"))
    log = open(work / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--notebook-dir={work}", "--ServerApp.open_browser=False",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--ContentsManager.allow_hidden=True"] + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; see {work / 'server.log'}:\n"
                                       + (work / "server.log").read_text()[-2000:])
                time.sleep(0.5)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(arg)
    opts.add_argument(f"--user-data-dir={ARTIFACTS / 'chrome-profile'}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(ARTIFACTS / "chrome-profile", ignore_errors=True)


# ---------------------------------------------------------------- page helpers

def _js(driver, script, *args):
    return driver.execute_script(script, *args)


def _wait(predicate, timeout, what, driver, shot):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    driver.save_screenshot(str(ARTIFACTS / f"{shot}-timeout.png"))
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; screenshot in {ARTIFACTS}")


def _accept_dialog(driver) -> bool:
    """Accept a 'Select Kernel' dialog if one is open (notebooks without kernel metadata ask)."""
    from selenium.webdriver.common.by import By
    for b in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"):
        if b.is_displayed():
            b.click()
    return False


def _run_all(driver, shot):
    """Click Run > Run All Cells in JupyterLab's menu bar."""
    from selenium.webdriver.common.by import By
    menus = [m for m in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item") if m.text.strip() == "Run"]
    assert menus, "JupyterLab's Run menu is missing"
    menus[0].click()
    time.sleep(0.5)
    items = [i for i in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-item")
             if i.text.strip().startswith("Run All Cells")]
    assert items, "Run All Cells is missing from the Run menu"
    items[0].click()


CELL_STATE_JS = """
const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
const prompts = cells.map(c => (c.querySelector('.jp-InputPrompt') || {}).textContent || '');
return {n: cells.length, done: prompts.filter(p => /\\[\\d+\\]/.test(p)).length,
        busy: prompts.filter(p => p.includes('*')).length,
        errors: document.querySelectorAll('[data-mime-type="application/vnd.jupyter.error"], .jp-OutputArea-output.jp-mod-error').length,
        text: document.querySelector('.jp-Notebook') ? document.querySelector('.jp-Notebook').innerText : ''};
"""

IMAGES_JS = """
return [...document.querySelectorAll('.jp-Notebook img.widget-image, .jp-Notebook .widget-image img, .jp-Notebook img.jupyter-widgets')]
  .filter(i => i.offsetParent !== null).map(i => i.src);
"""


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_and_widgets_live(lab, browser, notebook):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    base, token = lab
    shot = notebook.replace(".ipynb", "")
    # a workspace of its own per notebook, so no tab of an earlier test is restored
    browser.get(f"{base}/lab/workspaces/{shot}/tree/{notebook}?reset&token={token}")
    _wait(lambda: _js(browser, "return document.querySelectorAll('.jp-Notebook .jp-CodeCell').length") > 0,
          90, "the notebook to open", browser, shot)
    _wait(lambda: _accept_dialog(browser) or (
        "Idle" in (_js(browser, "return document.body.innerText") or "")
        and not _js(browser, "return document.querySelectorAll('.jp-Dialog').length")),
          120, "the kernel to start", browser, shot)
    try:
        _run_all(browser, shot)
        # finished when every cell ran, or when one failed (Run All stops there)
        _wait(lambda: (lambda s: s["busy"] == 0 and (s["done"] == s["n"] or s["errors"] > 0
                                                     or "Traceback" in s["text"]))(_js(browser, CELL_STATE_JS)),
              420, "every cell to finish", browser, shot)
        time.sleep(2)  # let widget views render
        browser.save_screenshot(str(ARTIFACTS / f"{shot}-ran.png"))
        state = _js(browser, CELL_STATE_JS)
        assert state["errors"] == 0, f"{notebook}: a cell shows an error; see {ARTIFACTS}"
        assert state["done"] == state["n"], f"{notebook}: only {state['done']} of {state['n']} cells ran"
        for bad in ("Error displaying widget", "Traceback (most recent call last)", "model not found"):
            assert bad not in state["text"], f"{notebook}: the page shows {bad!r}"

        sliders = [s for s in browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .widget-slider .noUi-handle")
                   if s.is_displayed()]
        assert sliders, f"{notebook}: no slider rendered"
        assert _js(browser, IMAGES_JS), f"{notebook}: no image widget rendered"

        changed = False
        for handle in sliders[:4]:
            # a slider may sit at either end of its range: try one way, then the other
            for key in (Keys.ARROW_RIGHT, Keys.ARROW_LEFT):
                before = _js(browser, IMAGES_JS)
                browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
                handle.click()
                for _ in range(3):
                    handle.send_keys(key)
                    time.sleep(0.2)
                deadline = time.time() + 60
                while time.time() < deadline:
                    if _js(browser, IMAGES_JS) != before and _js(browser, CELL_STATE_JS)["busy"] == 0:
                        changed = True
                        break
                    time.sleep(0.5)
                if changed:
                    break
            if changed:
                break
        browser.save_screenshot(str(ARTIFACTS / f"{shot}-slider.png"))
        assert changed, f"{notebook}: moving a slider did not change any displayed image"
        assert _js(browser, CELL_STATE_JS)["errors"] == 0, f"{notebook}: moving the slider raised an error"
    except Exception:
        browser.save_screenshot(str(ARTIFACTS / f"{shot}-failure.png"))
        raise
