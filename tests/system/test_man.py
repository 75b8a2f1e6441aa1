"""The man pages render without a single groff/mdoc warning: an unclosed
list (.Bl without .El) or a bad macro still renders, but garbles every
section after it, and lintian only warns about it."""

import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PAGES = ("man/mxfailover.8", "man/mxfailover.conf.5")


@pytest.mark.parametrize("page", PAGES)
def test_man_page_renders_without_warnings(page):
    if shutil.which("man") is None:
        pytest.fail("man(1) is missing: the man-db package is in dev's PKGS")
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", os.path.join(ROOT, page)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip() == "", p.stderr
    # It rendered something: the NAME section's text.
    assert "mxfailover" in p.stdout
