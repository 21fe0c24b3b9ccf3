"""Conformance over ../shared/corpus/mail (skipped when absent): no crash, no
worker failure, valid rebuilt output, and zero decoding losses on every
message whose charset is known."""
import glob
import json
import os
import subprocess
import tempfile

import pytest

from mailutil import CORPUS, MUGAI, check_wire_format

FILES = sorted(glob.glob(os.path.join(CORPUS, "mail", "*", "*.eml")))


@pytest.mark.skipif(not FILES, reason="../shared/corpus absent")
def test_mail_corpus_goes_through():
    verdicts = {}
    with tempfile.TemporaryDirectory() as d:
        out, rep = os.path.join(d, "o.eml"), os.path.join(d, "r.json")
        for path in FILES:
            r = subprocess.run([MUGAI, "mail", "sanitize", "-r", rep, path, out],
                               capture_output=True, timeout=60)
            assert r.returncode == 0, (path, r.stderr)
            report = json.load(open(rep))
            assert not {"worker-crash", "timeout"} & set(report["limits_hit"]), path
            assert report["decoding_losses"] == 0, path
            if report["verdict"] != "quarantined":  # every leaf rendered or listed
                assert report["parts_total"] == report["parts_rendered"] + report["parts_listed"], path
            check_wire_format(open(out, "rb").read())
            verdicts[report["verdict"]] = verdicts.get(report["verdict"], 0) + 1
    assert sum(verdicts.values()) == len(FILES)
    print("corpus verdicts:", verdicts)


@pytest.mark.skipif(not FILES, reason="../shared/corpus absent")
def test_every_output_keeps_the_from_of_its_input():
    """Class 7 (14 outputs lost their From): an input with a From keeps it in
    the output, as a header or as the 差出人 line of the notice."""
    import email
    import email.policy
    from mailutil import sanitize
    lost = []
    for path in FILES:
        raw = open(path, "rb").read()
        want = email.message_from_bytes(raw, policy=email.policy.compat32)["From"]
        if not want or "@" not in want:
            continue
        r = sanitize(raw)
        if r.msg["From"] is None and "\r\n差出人: " not in r.notice:
            lost.append(os.path.basename(path))
    assert lost == []


@pytest.mark.skipif(not FILES, reason="../shared/corpus absent")
def test_mimekit_japanese_exact():
    path = os.path.join(CORPUS, "mail", "jp", "mimekit_japanese.eml")
    import email
    import email.policy
    want = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    from mailutil import sanitize
    r = sanitize(open(path, "rb").read())
    assert str(r.msg["Subject"]) == str(want["Subject"])
    assert r.body.strip() == want.get_content().replace("\r\n", "\n").strip()
