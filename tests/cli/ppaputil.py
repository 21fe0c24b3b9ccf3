"""PPAP test material shared by tests/cli/test_daemon_ppap.py and
tests/e2e/test_postfix_ppap.py: encrypted zips made by the tools senders
use (7z -mem=AES256, zip -P), with entry names in UTF-8 or CP932, and the
two mails of a PPAP pair."""
import email.policy
import os
import subprocess
from email.message import EmailMessage

SENDER = "sato@supplier.example.co.jp"
CLERK = "clerk@city.example.lg.jp"
PASSWORD = "Kq7-mZ2pX9"
WAITING = "パスワード付きZIP（「見積書.zip」）: パスワードのメールを待っています（最長 60 分）"
DOC = "見積金額は 1,234,567 円です。\r\n"


def make_zip(tmp, kind, password, cp932=False):
    """An encrypted zip with one text file named 見積書.txt (UTF-8 name
    flag, or the CP932 bytes that Japanese Windows writes)."""
    work = os.path.join(str(tmp), f"z-{kind}-{int(cp932)}")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "見積書.txt")
    with open(src, "w", encoding="utf-8", newline="") as f:
        f.write(DOC)
    out = os.path.join(work, "out.zip")
    if kind == "aes":
        args = ["7z", "a", "-tzip", f"-p{password}", "-mem=AES256", out, "見積書.txt"]
    else:
        args = ["zip", "-q", "-P", password, out, "見積書.txt"]
    subprocess.run(args, cwd=work, check=True, capture_output=True)
    data = open(out, "rb").read()
    if cp932:  # the name bytes rewritten, the UTF-8 flag cleared
        data = cp932_names(data)
    return data


def cp932_names(data):
    """Rewrite every 見積書.txt name (UTF-8, 15 bytes) as CP932 (10 bytes)
    by rebuilding the local and central headers' name fields."""
    u, c = "見積書.txt".encode(), "見積書.txt".encode("cp932")
    out, i = bytearray(), 0
    fix, cd_start = [], None     # (old offset, new offset) of local headers
    while i < len(data):
        sig = data[i:i + 4]
        if sig == b"PK\x03\x04":
            nlen = int.from_bytes(data[i + 26:i + 28], "little")
            elen = int.from_bytes(data[i + 28:i + 30], "little")
            csize = int.from_bytes(data[i + 18:i + 22], "little")
            hdr = bytearray(data[i:i + 30])
            name = data[i + 30:i + 30 + nlen]
            assert name == u
            hdr[6:8] = (int.from_bytes(hdr[6:8], "little") & ~0x800).to_bytes(2, "little")
            hdr[26:28] = len(c).to_bytes(2, "little")
            fix.append((i, len(out)))
            out += hdr + c + data[i + 30 + nlen:i + 30 + nlen + elen + csize]
            i += 30 + nlen + elen + csize
            if data[i:i + 4] == b"PK\x07\x08":           # data descriptor (zip -P)
                out += data[i:i + 16]
                i += 16
        elif sig == b"PK\x01\x02":
            cd_start = len(out) if cd_start is None else cd_start
            nlen = int.from_bytes(data[i + 28:i + 30], "little")
            elen = int.from_bytes(data[i + 30:i + 32], "little")
            clen = int.from_bytes(data[i + 32:i + 34], "little")
            hdr = bytearray(data[i:i + 46])
            hdr[8:10] = (int.from_bytes(hdr[8:10], "little") & ~0x800).to_bytes(2, "little")
            hdr[28:30] = len(c).to_bytes(2, "little")
            off = int.from_bytes(hdr[42:46], "little")
            hdr[42:46] = dict(fix)[off].to_bytes(4, "little")
            out += hdr + c + data[i + 46 + nlen:i + 46 + nlen + elen + clen]
            i += 46 + nlen + elen + clen
        elif sig == b"PK\x05\x06":
            end = bytearray(data[i:])
            end[12:16] = (len(out) - cd_start).to_bytes(4, "little")
            end[16:20] = cd_start.to_bytes(4, "little")
            out += end
            break
        else:
            raise AssertionError(f"unexpected bytes at {i}: {sig!r}")
    return bytes(out)


def zip_mail(data, sender=SENDER, to=(CLERK,), msgid=None):
    m = EmailMessage()
    m["From"] = f"佐藤 <{sender}>"
    m["To"] = ", ".join(to)
    m["Subject"] = "見積書の送付"
    if msgid:
        m["Message-ID"] = msgid
    m.set_content("見積書をお送りします。\nパスワードは別のメールでお送りします。\n")
    m.add_attachment(data, maintype="application", subtype="zip", filename="見積書.zip")
    return m.as_bytes(policy=email.policy.SMTP)


def password_mail(password, sender=SENDER, to=(CLERK,), msgid=None):
    m = EmailMessage()
    m["From"] = f"佐藤 <{sender}>"
    m["To"] = ", ".join(to)
    m["Subject"] = "パスワードのお知らせ"
    if msgid:
        m["Message-ID"] = msgid
    m.set_content(f"先ほどのファイルの解凍パスワードです。\n\nパスワード：{password}\n\nよろしくお願いいたします。\n",
                  cte="base64")
    return m.as_bytes(policy=email.policy.SMTP)
