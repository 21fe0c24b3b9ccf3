#!/usr/bin/env python3
"""Deterministic benchmark corpus for the mail sanitizer (mean ~40 KB):
Japanese ISO-2022-JP and Shift_JIS text mails, UTF-8 HTML newsletters, and
multipart/alternative with attachments. Usage: gen_corpus.py DIR [COUNT]"""
import base64
import os
import random
import sys

KANJI = ("住民税申告窓口手続証明書発行案内町役場総務課財政企画福祉健康保険年金子育"
         "教育防災消防水道下水道道路公園環境廃棄物農業商工観光議会選挙管理委員会")
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"


def jp_text(rng, n):
    out = []
    while sum(len(s) for s in out) < n:
        line = "".join(rng.choice(KANJI if rng.random() < 0.4 else KANA) for _ in range(rng.randint(20, 40)))
        if rng.random() < 0.1:
            line += " https://www.example-town.lg.jp/page/%d" % rng.randint(1, 9999)
        if rng.random() < 0.05:
            line = "①②③ ㈱サンプル " + line
        out.append(line + "。")
    return "\n".join(out) + "\n"


def headers(i, subject_ew, ctype, extra=""):
    return (f"Received: from relay{i}.example.net by mx.example-town.lg.jp; Tue, 24 Nov 2026 10:00:00 +0900\n"
            f"From: =?UTF-8?B?{base64.b64encode('送信者'.encode()).decode()}?= <sender{i}@example.co.jp>\n"
            f"To: soumu@example-town.lg.jp\nSubject: {subject_ew}\n"
            f"Date: Tue, 24 Nov 2026 10:{i % 60:02d}:00 +0900\nMessage-ID: <bench{i}@example.co.jp>\n"
            f"MIME-Version: 1.0\n{extra}Content-Type: {ctype}\n")


def iso2022jp(i, rng):
    body = jp_text(rng, 12000)
    subj = "=?ISO-2022-JP?B?" + base64.b64encode("お知らせ".encode("iso2022_jp")).decode() + "?="
    enc = body.replace("①②③ ㈱", "").encode("iso2022_jp", errors="replace")
    return headers(i, subj, "text/plain; charset=ISO-2022-JP", "Content-Transfer-Encoding: 7bit\n").encode() + b"\n" + enc


def sjis(i, rng):
    body = jp_text(rng, 14000).encode("cp932")
    subj = "=?SHIFT_JIS?B?" + base64.b64encode("請求書".encode("cp932")).decode() + "?="
    return headers(i, subj, "text/plain; charset=Shift_JIS", "Content-Transfer-Encoding: base64\n").encode() + \
        b"\n" + base64.encodebytes(body)


def newsletter(i, rng):
    parts = ["<html><head><style>p{color:red}</style></head><body><table>"]
    while sum(len(p) for p in parts) < 13000:
        parts.append(f"<tr><td><h2>{jp_text(rng, 30).strip()}</h2><p>{jp_text(rng, 200)}"
                     f"<a href=\"https://news.example.jp/{rng.randint(1, 999)}\">詳しくはこちら</a></p></td></tr>")
    parts.append("</table></body></html>")
    html = "".join(parts).encode()
    subj = "=?UTF-8?B?" + base64.b64encode("メールマガジン".encode()).decode() + "?="
    return headers(i, subj, "text/html; charset=utf-8", "Content-Transfer-Encoding: base64\n").encode() + \
        b"\n" + base64.encodebytes(html)


def with_attachment(i, rng):
    text = jp_text(rng, 3000).encode()
    html = ("<p>" + jp_text(rng, 3000).replace("\n", "<br>") + "</p>").encode()
    blob = bytes(rng.getrandbits(8) for _ in range(24000))
    b = f"alt{i}"
    m = f"mix{i}"
    body = (f"--{m}\nContent-Type: multipart/alternative; boundary=\"{b}\"\n\n"
            f"--{b}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(text).decode()
            + f"--{b}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(html).decode() + f"--{b}--\n"
            + f"--{m}\nContent-Type: application/pdf; name=\"doc{i}.pdf\"\n"
            f"Content-Disposition: attachment; filename=\"doc{i}.pdf\"\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(blob).decode() + f"--{m}--\n")
    return headers(i, "Re: documents", f"multipart/mixed; boundary=\"{m}\"").encode() + b"\n" + body.encode()


def main():
    d = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    rng = random.Random(20261125)
    os.makedirs(d, exist_ok=True)
    kinds = [iso2022jp, sjis, newsletter, with_attachment]
    total = 0
    for i in range(n):
        data = kinds[i % len(kinds)](i, rng)
        total += len(data)
        with open(os.path.join(d, f"{i:05d}.eml"), "wb") as f:
            f.write(data)
    print(f"corpus: {n} messages, mean {total / n / 1024:.1f} KB, in {d}")


main()
