"""The README's screenshots of the dashboard: the top of the page at a
laptop's width (docs/dashboard.png, 1440 x 1000) and on a phone
(docs/dashboard-phone.png, 390 x 844 at twice the pixels), in Debian's
headless Chromium (make setup-browser). The page is make report's:

    make build && make report
    python scripts/readme_screenshots.py warehouse/pipeline_report.html
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "python"))

from chromium import Chromium  # noqa: E402  (the tests' driver, found above)

# (file, width, height, pixels per CSS pixel, a phone)
SHOTS = [
    (REPO / "docs" / "dashboard.png", 1440, 1000, 1, False),
    (REPO / "docs" / "dashboard-phone.png", 390, 844, 2, True),
]
# Charts redraw after a resize; the shot waits until each fits its box.
WAIT_FOR_CHARTS = """new Promise(function (resolve) {
  (function poll() {
    var charts = Array.from(document.querySelectorAll('.js-plotly-plot'));
    if (charts.every(function (c) { return c._fullLayout
          && Math.abs(c._fullLayout.width - c.clientWidth) < 2; })) resolve(true);
    else setTimeout(poll, 50);
  })();
})"""


def main(page: Path) -> int:
    browser = Chromium()
    try:
        browser.open_offline(page.resolve())
        for path, width, height, scale, mobile in SHOTS:
            browser.set_viewport(width, height, device_scale_factor=scale, mobile=mobile)
            browser.evaluate("window.dispatchEvent(new Event('resize'))")
            browser.evaluate(WAIT_FOR_CHARTS)
            shot = browser.call("Page.captureScreenshot", format="png")
            path.write_bytes(base64.b64decode(shot["data"]))
            print(path.relative_to(REPO))
    finally:
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
