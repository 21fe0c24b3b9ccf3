"""`mugai file sanitize` on zip archives: bombs, overlaps, header mismatch,
zip-slip, encryption, CP932 names, recursion; checked with Python's zipfile."""
import io
import struct
import zipfile

from test_file_util import make_zip, parts, sanitize


def ok(data, name="a.zip", **kw):
    rc, rep, out = sanitize(data, name, **kw)
    assert rc == 0 and rep["verdict"] == "sanitized", rep
    assert rep["type"] == "zip" and rep["out_type"] == "zip"
    return rep, parts(out)


def blocked(data, reason, name="a.zip", **kw):
    rc, rep, out = sanitize(data, name, **kw)
    assert rc == 0 and rep["verdict"] == "blocked" and out is None, rep
    assert reason in rep["reason"], rep
    return rep


def test_entries_sanitized_recursively():
    inner = make_zip([("note.csv", "=cmd|' /C calc'!A0,2\n")])
    rep, p = ok(make_zip([("readme.txt", "hello\x07 world\n"), ("inner.zip", inner),
                          ("tool.exe", b"MZ\x90\x00")]))
    assert p["readme.txt"] == b"hello world\n"
    assert set(p) == {"readme.txt", "inner.zip"}
    assert parts(p["inner.zip"])["note.csv"].startswith(b"'=cmd")
    assert "entry-removed: tool.exe: dangerous-extension: .exe" in rep["actions"]


def test_recursive_zip_bomb_depth():
    z = make_zip([("core.txt", "x")])
    for i in range(5):
        z = make_zip([("level%d.zip" % i, z)])
    z = make_zip([("top.txt", "ok"), ("nested.zip", z)])
    rep, p = ok(z)
    assert set(p) == {"top.txt"}  # every level below the limit ended up empty
    assert any("nested.zip" in a and "zip_depth_max" in a for a in rep["actions"]), rep
    # Within the limit, nesting is kept: zip > zip > text.
    rep, p = ok(make_zip([("l1.zip", make_zip([("core.txt", "x")]))]))
    assert parts(p["l1.zip"]) == {"core.txt": b"x"}


def test_ratio_bomb_blocked():
    blocked(make_zip([("zeros.txt", b"\0" * (20 << 20))]), "zip_ratio_max")


def test_total_budget_blocked():
    blocked(make_zip([("a%d.txt" % i, "x" * 800) for i in range(4)], zipfile.ZIP_STORED),
            "zip_total_max", config="zip_total_max = 2k\n")


def test_entry_count_blocked():
    blocked(make_zip([("a%d.txt" % i, "x") for i in range(5)]), "zip_entries_max",
            config="zip_entries_max = 4\n")


def _cd(data):
    eo = data.rindex(b"PK\x05\x06")
    return eo, struct.unpack("<I", data[eo + 16:eo + 20])[0]


def test_overlapping_entries_blocked():
    # Two central entries with the same name point at the same local header.
    z = bytearray(make_zip([("a.txt", "hello")], zipfile.ZIP_STORED))
    eo, cd = _cd(z)
    ent = bytes(z[cd:eo])
    z[cd:eo] = ent + ent
    z = z[:cd] + ent + ent + z[cd + 2 * len(ent):]
    tail = bytearray(z[-22:])
    struct.pack_into("<HHI", tail, 8, 2, 2, 2 * len(ent))
    blocked(bytes(z[:-22] + tail), "overlapping")


def test_local_header_disagrees_with_central_directory():
    z = bytearray(make_zip([("good.txt", "hello")], zipfile.ZIP_STORED))
    z[30:38] = b"evil.exe"  # local name differs from the central one
    blocked(bytes(z), "local header disagrees")


def test_zip_slip_names_normalized():
    rep, p = ok(make_zip([("../../etc/evil.txt", "a"), ("/abs/b.txt", "b"),
                          ("C:\\win\\c.txt", "c"), ("./d/./e.txt", "d")]))
    assert set(p) == {"etc/evil.txt", "abs/b.txt", "win/c.txt", "d/e.txt"}


def test_encrypted_zip_blocked():
    z = bytearray(make_zip([("secret.txt", "x")], zipfile.ZIP_STORED))
    eo, cd = _cd(z)
    z[6] |= 1          # local header: encrypted
    z[cd + 8] |= 1     # central header: encrypted
    blocked(bytes(z), "encrypted")


def test_cp932_names_decoded_to_utf8():
    sjis = "報告書.txt".encode("cp932")
    raw = make_zip([("X" * (len(sjis) - 4) + ".txt", "内容")]).replace(b"XXXXXX.txt", sjis)
    assert raw.count(sjis) == 2
    rep, p = ok(raw)
    assert list(p) == ["報告書.txt"]
    z = zipfile.ZipFile(io.BytesIO(sanitize(raw, "a.zip")[2]))
    assert z.infolist()[0].flag_bits & 0x800  # written with the UTF-8 flag


def test_type_change_renames_entry():
    bmp = b"BM" + struct.pack("<IHHI", 58, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 0, 0, 0, 0) + b"\x00\x00\xff\x00"
    rep, p = ok(make_zip([("pic.bmp", bmp)]))
    assert list(p) == ["pic.png"] and p["pic.png"].startswith(b"\x89PNG")


def test_empty_and_broken_archives_blocked():
    rep = blocked(make_zip([]), "zip-nothing-left")
    assert rep["reason"] == "zip-nothing-left"
    blocked(b"PK\x03\x04garbage", "end of central directory")


def bmp(w, h, pixel=(10, 20, 30)):
    """A 24-bit BMP, w×h of one colour (rows padded to 4 bytes)."""
    row = bytes(pixel[::-1]) * w + b"\0" * ((4 - w * 3 % 4) % 4)
    img = row * h
    return (b"BM" + struct.pack("<IHHI", 54 + len(img), 0, 0, 54) +
            struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(img), 2835, 2835, 0, 0) + img)


def test_colliding_names_get_unique_names():
    """a.bmp becomes a.png next to a.png; readme.md becomes readme.txt next to
    readme.txt: both survive under unique names instead of crashing the worker."""
    from test_file_misc import png
    src = make_zip([("a.png", png(2, 2)), ("a.bmp", bmp(3, 2)),
                    ("readme.txt", "text one\n"), ("readme.md", "text two\n")])
    rep, p = ok(src)
    assert set(p) == {"a.png", "a (2).png", "readme.txt", "readme (2).txt"}
    assert p["readme.txt"] == b"text one\n" and p["readme (2).txt"] == b"text two\n"
    assert p["a (2).png"].startswith(b"\x89PNG") and p["a.png"].startswith(b"\x89PNG")
    assert "entry-renamed: a.bmp to a (2).png" in rep["actions"]
    # Same name in another letter case collides on Windows too.
    rep, p = ok(make_zip([("Memo.txt", "A\n"), ("memo.TXT", "B\n")]))
    assert set(p) == {"Memo.txt", "memo (2).TXT"}


def test_ads_names_are_renamed():
    rep, p = ok(make_zip([("evil.exe:readme.txt", "hello\n"), ("dir/a<b>.txt", "x\n")]))
    assert p == {"evil.exe_readme.txt": b"hello\n", "dir/a_b_.txt": b"x\n"}
    assert not any(":" in n for n in p)


def test_local_header_version_and_time_may_differ():
    """Office and unzip accept a local header whose "version needed" and
    modification time differ from the central entry's; so does mugai (the
    fields that matter — name, method, sizes, CRC — are still compared)."""
    z = bytearray(make_zip([("a.txt", "hello\n"), ("b.txt", "world\n")]))
    struct.pack_into("<H", z, 4, 45)          # version needed 4.5 (central: 2.0)
    struct.pack_into("<H", z, 10, 0x1234)     # another time
    rep, p = ok(bytes(z))
    assert p == {"a.txt": b"hello\n", "b.txt": b"world\n"}
    struct.pack_into("<I", z, 14, 0xdeadbeef)  # but a CRC that disagrees is refused
    blocked(bytes(z), "broken: zip local header disagrees with central directory")


def test_windows_device_names_are_renamed():
    """con.txt, NUL, com1.csv, lpt1, 'aux .txt', 'prn.txt.' and COM¹ open a
    device on Windows instead of a file: each gets a leading '_' (any case,
    with or without extension, trailing dots and spaces dropped) and the
    report says so; the contents survive byte for byte."""
    src = make_zip([("con.txt", "console\n"), ("NUL", "null\n"), ("dir/com1.csv", "a,b\n"),
                    ("lpt1", "printer\n"), ("Aux .txt", "aux\n"), ("prn.txt. ", "prn\n"),
                    ("com\u00b9.txt", "super\n"), ("conin$.txt", "in\n"),
                    ("console.txt", "not a device\n"), ("com10.txt", "not a device\n"),
                    ("nul/x.txt", "dir\n")])
    rep, p = ok(src)
    assert p == {"_con.txt": b"console\n", "_NUL.txt": b"null\n", "dir/_com1.csv": b"a,b\n",
                 "_lpt1.txt": b"printer\n", "_Aux .txt": b"aux\n", "_prn.txt": b"prn\n",
                 "_com\u00b9.txt": b"super\n", "_conin$.txt": b"in\n",
                 "console.txt": b"not a device\n", "com10.txt": b"not a device\n",
                 "_nul/x.txt": b"dir\n"}
    assert "entry-renamed: con.txt to _con.txt" in rep["actions"]
    assert "entry-renamed: prn.txt.  to _prn.txt" in rep["actions"]
    assert "entry-renamed: dir/com1.csv to dir/_com1.csv" in rep["actions"]
    assert ("圧縮ファイルの中のファイル名を変更しました（「con.txt to _con.txt」）"
            in rep["actions_ja"])


def test_trailing_dot_entry_is_judged_by_its_windows_name():
    """'run.js.' is run.js on Windows: blocked as a dangerous name like run.js,
    while the text beside it survives."""
    rep, p = ok(make_zip([("run.js.", "WScript.Echo(1)\n"), ("memo.txt", "memo\n")]))
    assert p == {"memo.txt": b"memo\n"}
    assert "entry-removed: run.js.: dangerous-extension: .js" in rep["actions"]


def test_top_level_device_name_is_renamed_and_reported():
    rc, rep, out = sanitize(b"hello\n", "CON.txt")
    assert rep["verdict"] == "sanitized" and out == b"hello\n"
    assert "file-renamed: CON.txt to _CON.txt" in rep["actions"]
    assert rep["actions_ja"][-1] == ("Windows で正しく扱えないファイル名（装置名や末尾の点など）を"
                                     "安全な名前に変更しました（「CON.txt to _CON.txt」）")


def _unzip_accepts(data):
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".zip") as f:
        f.write(data)
        f.flush()
        return subprocess.run(["unzip", "-tqq", f.name], capture_output=True).returncode in (0, 1)


def test_padding_after_the_end_record_is_tolerated():
    """Transfer tools pad archives (zeros, a block of junk); unzip and Office
    open them. The end record is found, the padding ignored and reported,
    every entry survives."""
    from test_file_office import docx, RUN
    z = make_zip([("a.txt", "hello\n"), ("b/c.csv", "1,2\n")])
    for pad in (b"\0" * 4096, b"\r\n", b"garbage after the archive\n" * 10):
        assert _unzip_accepts(z + pad)
        rep, p = ok(z + pad)
        assert p == {"a.txt": b"hello\n", "b/c.csv": b"1,2\n"}
        assert "zip-padding-ignored: %d bytes after the end record" % len(pad) in rep["actions"]
    # An Office document padded the same way is still an Office document.
    d = docx(RUN)
    rc, rep, out = sanitize(d + b"\0" * 512, "r.docx")
    assert rep["verdict"] == "sanitized" and rep["out_type"] == "docx", rep
    assert "本文 keep me".encode() in parts(out)["word/document.xml"]
    # The comment length still has to fit the file.
    bad = bytearray(z)
    struct.pack_into("<H", bad, len(bad) - 2, 100)
    blocked(bytes(bad), "broken: zip no end of central directory")


def test_prepended_data_stays_blocked():
    """A self-extractor (MZ + zip) or any data before the archive (a
    polyglot) is not a zip: blocked, even with offsets adjusted by zip -A."""
    import subprocess
    import tempfile
    z = make_zip([("a.txt", "hello\n")])
    rc, rep, out = sanitize(b"MZ\x90\x00" + b"\0" * 60 + z, "setup.zip")
    assert (rep["verdict"], rep["reason"], out) == ("blocked", "executable: program file", None)
    with tempfile.NamedTemporaryFile(suffix=".zip") as f:
        f.write(b"\x7fJUNK\x00\x01\x02" * 8 + z)
        f.flush()
        assert subprocess.run(["zip", "-Aq", f.name], capture_output=True).returncode == 0
        data = open(f.name, "rb").read()
    assert _unzip_accepts(data)
    rc, rep, out = sanitize(data, "poly.zip")
    assert (rep["verdict"], rep["type"], out) == ("blocked", "unknown", None), rep
    # Two archives glued together: the last record's offsets point into the
    # first archive, where its central directory is not.
    rc, rep, out = sanitize(z + make_zip([("evil.txt", "second\n")]), "two.zip")
    assert (rep["verdict"], rep["reason"], out) == \
        ("blocked", "broken: zip broken central directory", None), rep


# A CDR code (action or reason) as written in the English report: a
# lowercase hyphenated word, or a limit:/policy: family, before ": " or at the end.
RAW_CODE = __import__("re").compile(r"(?<![A-Za-z.])(?:[a-z]+(?:-[a-z0-9]+)+|limit:[a-z_]+|policy:[a-z_]+)(?=: |」|$)")


def _japanese_texts(rep):
    return list(rep["actions_ja"]) + ([rep["reason_ja"]] if rep.get("reason_ja") else [])


def test_nested_entry_reasons_are_japanese_sentences():
    """An entry removed from an archive (also inside a nested archive), and an
    archive with nothing left, show the entry's reason as a Japanese
    sentence: no code such as dangerous-extension or broken inside the
    Japanese text; the English report keeps the codes; the text survives."""
    inner = make_zip([("run.js", "WScript.Echo(1)\n"), ("memo.txt", "メモ\n")])
    rep, p = ok(make_zip([("tool.exe", b"MZ\x90\x00"), ("in.zip", inner), ("x.bin", b"\0\1\2\3" * 8)]))
    assert set(p) == {"in.zip"} and parts(p["in.zip"]) == {"memo.txt": "メモ\n".encode()}
    assert rep["actions"] == ["entry-removed: tool.exe: dangerous-extension: .exe",
                              "entry-removed: in.zip/run.js: dangerous-extension: .js",
                              "entry-removed: x.bin: unsupported-type: unknown type"]
    assert rep["actions_ja"] == [
        "圧縮ファイルの中の無害化できないファイルを削除しました（「tool.exe」：開くとプログラムが"
        "実行されるおそれのある名前のため添付しませんでした（「.exe」））",
        "圧縮ファイルの中の無害化できないファイルを削除しました（「in.zip/run.js」：開くとプログラムが"
        "実行されるおそれのある名前のため添付しませんでした（「.js」））",
        "圧縮ファイルの中の無害化できないファイルを削除しました（「x.bin」：この種類のファイルは"
        "無害化できないため添付しませんでした（「unknown type」））"]
    for t in _japanese_texts(rep):
        assert not RAW_CODE.search(t), t
    rep = blocked(make_zip([("a.zip", make_zip([("b.exe", b"MZ\x90\x00")]))]), "zip-nothing-left")
    assert rep["reason"] == "zip-nothing-left: a.zip: zip-nothing-left: b.exe: dangerous-extension: .exe"
    assert rep["reason_ja"] == (
        "圧縮ファイルの中に無害化できるファイルがありませんでした（「a.zip」：圧縮ファイルの中に無害化"
        "できるファイルがありませんでした（「b.exe」：開くとプログラムが実行されるおそれのある名前のため"
        "添付しませんでした（「.exe」）））")
    assert not RAW_CODE.search(rep["reason_ja"])


def test_no_utf8_to_utf8_decoding_action():
    """Decoding UTF-8 (or ASCII) into UTF-8 changes nothing and is not
    reported; a real conversion (CP932 to UTF-8) still is."""
    rep, p = ok(make_zip([("u.txt", "日本語\n"), ("a.txt", "ascii\n"), ("s.txt", "日本語\n".encode("cp932"))]))
    assert p == {"u.txt": "日本語\n".encode(), "a.txt": b"ascii\n", "s.txt": "日本語\n".encode()}
    assert rep["actions"] == ["text-decoded: s.txt: CP932 to UTF-8"]
    for name, data in (("u.txt", "日本語\n".encode()), ("a.csv", b"a,b\n")):
        rc, rep, out = sanitize(data, name)
        assert rep["verdict"] == "sanitized" and out == data and rep["actions"] == [], rep
    assert not any("UTF-8 to UTF-8" in a for a in rep["actions"] + rep["actions_ja"])
