"""Related limits are checked against each other at config load, by `mugai
config check` and `mugaid -n` alike, with the exact message naming both sides
(the relations of README "Related limits"; test_startup.py has the first four)."""
import subprocess

import pytest

from daemonutil import MUGAI, MUGAID

MUPDF_STORE = 64 << 20  # PDF_STORE_MAX


def check_both(tmp_path, text):
    cf = tmp_path / "m.cf"
    cf.write_text(text)
    out = []
    for prog, name in ((MUGAI, "mugai"), (MUGAID, "mugaid")):
        args = [prog, "config", "check", "-c", str(cf)] if name == "mugai" else \
               [prog, "-n", "-c", str(cf)]
        r = subprocess.run(args, capture_output=True, text=True, timeout=30)
        out.append((r.returncode, r.stderr.replace(f"{name}: config: {cf}: ", "")))
    return out


@pytest.mark.parametrize("text,msg", [
    ("decoded_size_max = 8M\n",
     "decoded_size_max = 8388608 must be at least text_size_max (16777216)"),
    ("worker_memory_max = 128M\n",
     "worker_memory_max = 134217728 must be at least 3 x pdf_page_pixels_max + "
     f"pdf_flatten_bytes_max + MuPDF's store ({3 * 24000000 + (64 << 20) + MUPDF_STORE})"),
    ("worker_memory_max = 256M\npdf_page_pixels_max = 100000000\n",
     "worker_memory_max = 268435456 must be at least 3 x pdf_page_pixels_max + "
     f"pdf_flatten_bytes_max + MuPDF's store ({3 * 100000000 + (64 << 20) + MUPDF_STORE})"),
])
def test_a_broken_relation_is_refused_by_both_commands(tmp_path, text, msg):
    assert check_both(tmp_path, text) == [(78, msg + "\n")] * 2


def test_a_small_worker_fits_when_the_pdf_limits_shrink_with_it(tmp_path):
    text = "worker_memory_max = 128M\npdf_page_pixels_max = 10000000\npdf_flatten_bytes_max = 16M\n"
    assert check_both(tmp_path, text) == [(0, "")] * 2


def test_the_defaults_hold_every_relation(tmp_path):
    assert check_both(tmp_path, "# defaults\n") == [(0, "")] * 2
