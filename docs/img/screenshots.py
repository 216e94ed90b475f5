"""Screenshots of ``report`` and ``compare`` on the shipped sample logs, at 1400 px wide, in headless Chromium.

    PYTHONPATH=$PWD python docs/img/screenshots.py [OUT_DIR]   # default docs/img

Writes report.png, compare.png (small multiples) and compare_overlay.png; the HTML goes to a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
WIDTH = 1400
RUNS = ["sample_logs/grpo", "sample_logs/grpo_seal", "sample_logs/grpo_seed1", "sample_logs/grpo_seal_seed1"]
LABELS = ["GRPO=sample_logs/grpo", "GRPO+SEAL=sample_logs/grpo_seal", "GRPO seed 1=sample_logs/grpo_seed1",
          "GRPO+SEAL seed 1=sample_logs/grpo_seal_seed1"]
#: (png name, CLI arguments, how many pixels of the page to keep from the top)
SHOTS = [
    ("report.png", ["report", "sample_logs/grpo"], 1500),
    ("compare.png", ["compare", *(a for lab in LABELS for a in ("--label", lab))], 1480),
    ("compare_overlay.png", ["compare", "--layout", "overlay", *(a for lab in LABELS for a in ("--label", lab))],
     1240),
]


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for name, args, keep in SHOTS:
            html = Path(tmp) / (Path(name).stem + ".html")
            subprocess.run([sys.executable, "-m", "entropy_dynamics.cli.main", *args, "--out", str(html)], check=True,
                           stdout=subprocess.DEVNULL)
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            page.goto(html.as_uri())
            expected = html.read_text(encoding="utf-8").count('class="plotly-graph-div"')
            page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length >= {expected}")
            page.wait_for_timeout(500)
            full = Path(tmp) / name
            page.screenshot(path=str(full), full_page=True)
            page.close()
            image = Image.open(full)
            image = image.crop((0, 0, image.width, min(keep, image.height))).convert("RGB")
            image = image.quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            image.save(out_dir / name, optimize=True)
            print(f"{out_dir / name}: {(out_dir / name).stat().st_size / 1e3:.0f} kB")
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img"))
