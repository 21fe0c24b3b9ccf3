"""The console in a real browser (issue 10): headless Chromium driven by
Selenium logs in with password and TOTP, sees the clerk's list with the
Japanese text, opens a message whose subject is hostile markup (shown as
text: no element or handler is created), and requests a release; the
approver logs in and approves. The full flows through mugaid's releaser
(the sanitized files and the original, delivered to the clerk's Maildir
only, then checked by the auditor), the admin release by two admins, and
user management (an admin adds a clerk who then logs in). Screenshots of
each page are kept under the test's tmp dir and copied to
build/screenshots/<test>/ for review. Skips with the reason when Chromium,
chromedriver or Selenium is missing or cannot start."""
import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from consoleutil import Account, Console  # noqa: E402
from storeutil import MUGAI  # noqa: E402

CLERK_ADDR = "tanaka@city.example.lg.jp"
EVIL = '<script>document.title="pwned"</script>"onmouseover="x<img src=x onerror=alert(1)>'


def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        pytest.skip(f"python3-selenium missing: {e}")
    drv = shutil.which("chromedriver")
    if not drv or not shutil.which("chromium"):
        pytest.skip("chromium or chromium-driver missing (apt-get install chromium chromium-driver)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1200,900", "--lang=ja"):
        opts.add_argument(a)
    if os.getuid() == 0:
        opts.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    try:
        return webdriver.Chrome(service=Service(drv), options=opts)
    except Exception as e:  # noqa: BLE001 - any start failure is a skip with its reason
        pytest.skip(f"chromium cannot start here: {str(e).splitlines()[0]}")


class Shots:
    """Screenshots of each page: under the test's tmp dir and a copy in
    build/screenshots/<test>/ (build/ is the directory of the mugai binary)."""

    def __init__(self, tmp_path, request):
        self.dir = tmp_path / "screenshots"
        self.dir.mkdir()
        self.keep = os.path.join(os.path.dirname(os.path.abspath(MUGAI)), "screenshots",
                                 request.node.name)
        shutil.rmtree(self.keep, ignore_errors=True)
        os.makedirs(self.keep)

    def __call__(self, d, name):
        path = str(self.dir / f"{name}.png")
        assert d.save_screenshot(path)
        shutil.copy(path, self.keep)

    def __str__(self):
        return f"{self.dir} (copied to {self.keep})"


def h1(d, want):
    """Wait for the page whose heading is want (a click starts a navigation;
    while the old page goes, chromedriver may answer a lookup with a stale
    node or "Node with given id does not belong to the document": try again
    until the new page is there, or fail after 10 s)."""
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(d, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda x: x.find_element(By.TAG_NAME, "h1").text == want)


def login(d, base, acct):
    from selenium.webdriver.common.by import By
    d.get(base + "/login")
    d.find_element(By.NAME, "user").send_keys(acct.name)
    d.find_element(By.NAME, "password").send_keys(acct.password)
    d.find_element(By.NAME, "otp").send_keys(acct.code())
    d.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_clerk_and_approver_in_chromium(tmp_path, request):
    from selenium.webdriver.common.by import By
    con = Console(tmp_path)
    clerk = con.user_add("tanaka", "clerk", CLERK_ADDR, dept="総務課")
    boss = con.user_add("kacho", "approver", dept="総務課")
    qid = con.put_mail(CLERK_ADDR, subject=EVIL, removed=[("請求書.pdf.exe", "executable")])
    con.start()
    shots = Shots(tmp_path, request)
    d = browser()
    try:
        base = f"http://127.0.0.1:{con.port}"
        d.get(base + "/login")
        h1(d, "ログイン")
        shots(d, "1-login")
        login(d, base, clerk)
        h1(d, "メール一覧")
        cells = [td.text for td in d.find_elements(By.CSS_SELECTOR, "#mail td")]
        assert cells[1:] == ["山田 太郎 <taro@example.co.jp>", EVIL, "無害化済み", "保管中"]
        shots(d, "2-list")
        # the hostile subject is text: no script, image or handler was created
        assert d.title == "メール一覧 — mugai"
        assert d.find_elements(By.CSS_SELECTOR, "main script, main img, [onmouseover], [onerror]") \
            == []
        d.find_element(By.LINK_TEXT, EVIL).click()
        h1(d, "メールの詳細")
        assert [li.text for li in d.find_elements(By.CSS_SELECTOR, "#removed li")] == [
            "請求書.pdf.exe — 実行可能ファイル"]
        shots(d, "3-detail")
        d.find_element(By.NAME, "reason").send_keys("取引先の請求書を確認するため")
        d.find_element(By.CSS_SELECTOR, "form[action$='/request'] button").click()
        h1(d, "メール一覧")
        assert con.sql("SELECT status, release_kind FROM quarantine WHERE id=?", qid) == [
            ("release-requested", "sanitized")]
        d.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        h1(d, "ログイン")
        login(d, base, boss)
        h1(d, "メール一覧")
        rows = [td.text for td in d.find_elements(By.CSS_SELECTOR, "#requests td")]
        assert rows[0] == qid and rows[2:] == ["tanaka", EVIL, "無害化したファイル",
                                               "取引先の請求書を確認するため"]
        shots(d, "4-requests")
        d.find_element(By.LINK_TEXT, EVIL).click()
        h1(d, "メールの詳細")
        d.find_element(By.CSS_SELECTOR, "form[action$='/approve'] textarea").send_keys("確認済み")
        d.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
        h1(d, "メール一覧")
        assert "承認待ちの依頼はありません。" in d.find_element(By.TAG_NAME, "main").text
        shots(d, "5-approved")
    finally:
        d.quit()
        con.stop()
    assert con.sql("SELECT status, approved_by FROM quarantine WHERE id=?", qid) == [
        ("released", "console:kacho")]
    print(f"screenshots: {shots}")


def test_admin_search_and_self_inspection_report_in_chromium(tmp_path, request):
    """The admin searches for the hostile subject (shown as text, no element
    or handler created) and prints the self-inspection report; the auditor
    sees the same report. DOM text asserted, screenshots kept."""
    import datetime
    from selenium.webdriver.common.by import By
    con = Console(tmp_path)
    admin = con.user_add("kanri", "admin")
    auditor = con.user_add("kansa", "auditor")
    con.put_mail(CLERK_ADDR, subject=EVIL, removed=[("請求書.pdf.exe", "executable")])
    con.put_mail(CLERK_ADDR, subject="会議の案内", verdict="quarantined",
                 limits=["line_length_max"])
    con.start()
    shots = Shots(tmp_path, request)
    day = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=9))).date().isoformat()
    d = browser()
    try:
        base = f"http://127.0.0.1:{con.port}"
        login(d, base, admin)
        h1(d, "メール一覧")
        d.find_element(By.LINK_TEXT, "メールの検索").click()
        h1(d, "メールの検索")
        d.find_element(By.NAME, "file").send_keys(".exe")
        d.find_element(By.CSS_SELECTOR, "#search button").click()
        h1(d, "メールの検索")
        cells = [td.text for td in d.find_elements(By.CSS_SELECTOR, "#hits td")]
        assert cells[1:] == ["山田 太郎 <taro@example.co.jp>", CLERK_ADDR, EVIL, "無害化済み",
                             "保管中"]
        assert d.title == "メールの検索 — mugai"
        assert d.find_elements(By.CSS_SELECTOR, "main script, main img, [onmouseover], [onerror]") \
            == []
        shots(d, "6-search")
        d.get(base + "/")
        h1(d, "メール一覧")
        d.find_element(By.LINK_TEXT, "自己点検報告書").click()
        h1(d, "自己点検報告書")
        summary = [tr.text for tr in d.find_elements(By.CSS_SELECTOR, "#summary tr")]
        assert summary[:2] == ["受信したメール（件） 2", "ウイルスを検出したメール（件） 0"]
        assert [tr.text for tr in d.find_elements(By.CSS_SELECTOR, "#verdicts tr")] == [
            "隔離 1", "無害化済み 1"]
        assert [tr.text for tr in d.find_elements(By.CSS_SELECTOR, "#reasons tr")] == [
            "実行可能ファイル 1"]
        assert d.find_element(By.ID, "period").text == \
            f"対象期間: {day[:8]}01 〜 {day}（日本時間、両日を含む）"
        shots(d, "7-report-admin")
        d.get(base + "/")
        h1(d, "メール一覧")
        d.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        h1(d, "ログイン")
        login(d, base, auditor)
        h1(d, "メール一覧")
        d.find_element(By.LINK_TEXT, "自己点検報告書").click()
        h1(d, "自己点検報告書")
        assert d.find_element(By.ID, "verify").text.startswith(
            "改ざんは検出されませんでした。（検証した記録 ")
        shots(d, "8-report-auditor")
    finally:
        d.quit()
        con.stop()
    print(f"screenshots: {shots}")


# ---- the full flows: mugaid's releaser, the auditor, two admins, accounts ----

def logout(d):
    """The logout button is on the list page: back to it first."""
    from selenium.webdriver.common.by import By
    if not d.find_elements(By.CSS_SELECTOR, "form[action='/logout'] button"):
        d.find_element(By.LINK_TEXT, "一覧に戻る").click()
        h1(d, "メール一覧")
    d.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    h1(d, "ログイン")


def texts(d, css):
    from selenium.webdriver.common.by import By
    return [e.text for e in d.find_elements(By.CSS_SELECTOR, css)]


def request_and_approve(d, base, u, kind, shots):
    """The clerk finds the mail in the list and by its 受付番号, asks for kind
    with a reason; the 課長 approves it with a comment. All in the browser."""
    from selenium.webdriver.common.by import By
    short = f"{u.qid[-8:-4]}-{u.qid[-4:]}"
    login(d, base, u.clerk)
    h1(d, "メール一覧")
    assert texts(d, "#mail td")[1:] == ["sender@example.jp", "見積書", "無害化済み", "保管中"]
    shots(d, "01-clerk-list")
    d.find_element(By.LINK_TEXT, "見積書").click()
    h1(d, "メールの詳細")
    assert "tool.exe — 実行可能ファイル" in texts(d, "#removed li")
    shots(d, "02-clerk-detail")
    d.get(f"{base}/q/{short}")      # the 受付番号 read over the phone
    h1(d, "メールの詳細")
    assert f"受付番号\n{u.qid}（{short}）" in d.find_element(By.ID, "facts").text
    assert d.current_url == f"{base}/mail/{u.qid}"
    shots(d, "03-clerk-by-number")
    assert d.find_element(By.CSS_SELECTOR, "input[name=kind][value=sanitized]").is_selected()
    d.find_element(By.CSS_SELECTOR, f"input[name=kind][value={kind}]").click()
    d.find_element(By.NAME, "reason").send_keys("見積書の内容を確認するため")
    shots(d, "04-clerk-request")
    d.find_element(By.CSS_SELECTOR, "form[action$='/request'] button").click()
    h1(d, "メール一覧")
    assert texts(d, "#mail td")[-1] == "承認待ち"
    logout(d)
    login(d, base, u.boss)
    h1(d, "メール一覧")
    kind_ja = {"sanitized": "無害化したファイル", "original": "原本"}[kind]
    rows = texts(d, "#requests td")
    assert rows[0] == u.qid and rows[2:] == ["taro", "見積書", kind_ja, "見積書の内容を確認するため"]
    shots(d, "05-approver-requests")
    d.find_element(By.CSS_SELECTOR, "#requests a").click()
    h1(d, "メールの詳細")
    d.find_element(By.CSS_SELECTOR, "form[action$='/approve'] textarea").send_keys("確認しました")
    shots(d, "06-approver-detail")
    d.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
    h1(d, "メール一覧")
    assert "承認待ちの依頼はありません。" in d.find_element(By.TAG_NAME, "main").text
    logout(d)


def delivered(u, state):
    """The releaser's delivery to the clerk (and to nobody else)."""
    import time
    from test_console_release import wait_files
    files = wait_files(u.d, "taro@example.lg.jp", 2)
    assert len(files) == 2
    end = time.monotonic() + 20
    while u.con.sql("SELECT release_to FROM quarantine WHERE id=?", u.qid) != [(state,)]:
        assert time.monotonic() < end, "the release was not marked delivered"
        time.sleep(0.2)
    time.sleep(1.5)   # a second run of the releaser delivers nothing more
    assert len(u.d.delivered("hanako@example.lg.jp")) == 1, "the other recipient gets nothing"
    assert len(u.d.delivered("taro@example.lg.jp")) == 2
    return open([f for f in files if f != u.first][0], "rb").read()


def clerk_and_auditor_see_it(d, base, u, auditor, released_text, delivery_ja, kind_ja, shots):
    from selenium.webdriver.common.by import By
    login(d, base, u.clerk)
    h1(d, "メール一覧")
    assert texts(d, "#mail td")[-1] == "承認済み"
    d.find_element(By.LINK_TEXT, "見積書").click()
    h1(d, "メールの詳細")
    assert d.find_element(By.ID, "released").text == released_text
    shots(d, "07-clerk-delivered")
    logout(d)
    login(d, base, auditor)
    h1(d, "メール一覧")
    assert d.find_element(By.ID, "verify").text.startswith(
        "改ざんは検出されませんでした。（検証した記録 ")
    row = texts(d, "#releases tr:nth-child(2) td")
    assert [row[0]] + row[2:7] + [row[8], row[10]] == [
        u.qid, "sender@example.jp", "見積書", "taro", "見積書の内容を確認するため", kind_ja,
        "kacho", delivery_ja]
    audit = [tuple(r.split(" ")[3:6]) for r in texts(d, "#audit tr")[1:]]
    for rec in [("console:taro", "quarantine.request", u.qid),
                ("console:kacho", "quarantine.approve", u.qid),
                ("console:kacho", "console.approve", u.qid),
                ("mugaid", "quarantine.release.delivered", u.qid),
                ("console:taro", "console.login", "taro"),
                ("console:kacho", "console.login", "kacho")]:
        assert rec in audit, rec
    shots(d, "08-auditor")


def test_flow_sanitized_files_through_mugaid_in_chromium(tmp_path, request):
    """Flow 1: a mail with attachments sanitized by a real mugaid run; the
    clerk asks for the sanitized files, the 課長 approves, the releaser
    delivers them to the clerk's Maildir only; the clerk sees it delivered,
    the auditor the report row, both accounts and the verification."""
    from test_console_release import URL, Setup, parse_bytes, with_files
    from test_daemon_release import approved_jst
    from test_file_util import assert_pdf_clean, parts
    d = browser()
    shots = Shots(tmp_path, request)
    u = None
    try:
        u = Setup(tmp_path, with_files(), console_url=URL)
        auditor = u.con.user_add("kansa", "auditor")
        base = f"http://127.0.0.1:{u.con.port}"
        request_and_approve(d, base, u, "sanitized", shots)
        m = parse_bytes(delivered(u, "queue-sanitized-delivered"))
        assert str(m["Subject"]).strip() == "【承認済・無害化ファイル】見積書"
        body = next(m.iter_parts()).get_content().splitlines()
        assert body[2] == (f"このメールは 承認者 kacho が {approved_jst(u.d, u.qid)} に"
                           "無害化ファイルの取り出しを承認しました。")
        att = {p.get_filename(): p.get_payload(decode=True) for p in m.iter_attachments()}
        assert set(att) == {"見積書.pdf", "資料.zip"}
        assert_pdf_clean(att["見積書.pdf"])                           # qpdf
        assert parts(att["資料.zip"]) == {"readme.txt": b"hello world\n"}   # zipfile
        clerk_and_auditor_see_it(d, base, u, auditor,
                                 "承認され、無害化したファイルを依頼者のメールボックスに配送しました。",
                                 "無害化ファイルを配送済み", "無害化したファイル", shots)
    finally:
        d.quit()
        if u:
            u.close()
    assert u.con.verify()[0] == 0
    print(f"screenshots: {shots}")


def test_flow_original_through_mugaid_in_chromium(tmp_path, request):
    """Flow 2: the clerk asks for the original; the 課長 approves; the
    releaser delivers 【承認済・原本】 with the untouched original attached
    as message/rfc822, to the clerk only."""
    import email
    import email.policy
    from test_console_release import ORIGINAL, Setup
    from test_daemon_release import check_wrapped
    d = browser()
    shots = Shots(tmp_path, request)
    u = None
    original = ORIGINAL
    try:
        u = Setup(tmp_path, original)
        auditor = u.con.user_add("kansa", "auditor")
        base = f"http://127.0.0.1:{u.con.port}"
        request_and_approve(d, base, u, "original", shots)
        raw = delivered(u, "queue-delivered")
        m = check_wrapped(u.d, u.qid, raw, "kacho", "【承認済・原本】見積書", ["taro@example.lg.jp"],
                          original)
        inner = m.get_payload()[1].get_payload()[0]     # message/rfc822, parsed by Python's email
        again = email.message_from_bytes(original, policy=email.policy.default)
        assert str(inner["Subject"]) == str(again["Subject"]) == "見積書"
        assert [p.get_filename() for p in inner.iter_attachments()] == ["tool.exe"]
        assert next(inner.iter_attachments()).get_payload(decode=True).rstrip() == b"MZ original bytes"
        clerk_and_auditor_see_it(d, base, u, auditor,
                                 "承認され、原本を依頼者のメールボックスに配送しました。",
                                 "配送済み", "原本", shots)
    finally:
        d.quit()
        if u:
            u.close()
    assert u.con.verify()[0] == 0
    print(f"screenshots: {shots}")


def test_flow_admin_release_by_two_admins_in_chromium(tmp_path, request):
    """Flow 3: the original of a limit-quarantined mail: the clerk asks for
    it; the approver sees the warning and no approval; the first admin ticks
    the box and confirms (shown as 1 人目の確認); the second admin releases."""
    from selenium.webdriver.common.by import By
    from test_console_adminrel import WARN
    d = browser()
    shots = Shots(tmp_path, request)
    con = Console(tmp_path)
    try:
        acct = {n: con.user_add(n, role, *addr, dept="総務課") for n, role, addr in [
            ("tanaka", "clerk", [CLERK_ADDR]), ("kacho", "approver", []),
            ("admin1", "admin", []), ("admin2", "admin", [])]}
        qid = con.put_mail(CLERK_ADDR, subject="長い行の請求書", verdict="quarantined",
                           limits=["line_length_max"])
        con.start()
        base = f"http://127.0.0.1:{con.port}"
        login(d, base, acct["tanaka"])
        h1(d, "メール一覧")
        d.find_element(By.LINK_TEXT, "長い行の請求書").click()
        h1(d, "メールの詳細")
        d.find_element(By.CSS_SELECTOR, "input[name=kind][value=original]").click()
        d.find_element(By.NAME, "reason").send_keys("取引先の原本が必要なため")
        d.find_element(By.CSS_SELECTOR, "form[action$='/request'] button").click()
        h1(d, "メール一覧")
        logout(d)
        login(d, base, acct["kacho"])
        h1(d, "メール一覧")
        d.find_element(By.LINK_TEXT, "長い行の請求書").click()
        h1(d, "メールの詳細")
        assert d.find_element(By.ID, "adminrel-warning").text == WARN
        assert d.find_element(By.ID, "adminrel-wait").text == "管理者の確認を待っています。"
        assert d.find_elements(By.CSS_SELECTOR, "form[action$='/approve']") == []
        shots(d, "1-approver-warning")
        logout(d)
        login(d, base, acct["admin1"])
        h1(d, "メール一覧")
        d.get(f"{base}/mail/{qid}")
        h1(d, "メールの詳細")
        assert d.find_element(By.ID, "adminrel-warning").text == WARN
        box = d.find_element(By.CSS_SELECTOR, "#admin-release input[name=understood]")
        button = d.find_element(By.CSS_SELECTOR, "#admin-release button")
        assert button.text == "1 人目として確認する"
        button.click()            # the box is required: the browser does not send the form
        assert con.sql("SELECT admin_confirmed_by FROM quarantine WHERE id=?", qid) == [("",)]
        box.click()
        shots(d, "2-admin1-confirm")
        button.click()
        h1(d, "メール一覧")
        d.get(f"{base}/mail/{qid}")
        h1(d, "メールの詳細")
        assert d.find_element(By.ID, "adminrel-first").text == "1 人目の確認: admin1"
        assert d.find_element(By.ID, "adminrel-wait").text == "ほかの管理者の確認を待っています。"
        shots(d, "3-admin1-confirmed")
        logout(d)
        login(d, base, acct["admin2"])
        h1(d, "メール一覧")
        d.get(f"{base}/mail/{qid}")
        h1(d, "メールの詳細")
        assert d.find_element(By.ID, "adminrel-first").text == "1 人目の確認: admin1"
        d.find_element(By.CSS_SELECTOR, "#admin-release input[name=understood]").click()
        button = d.find_element(By.CSS_SELECTOR, "#admin-release button")
        assert button.text == "2 人目として確認し、原本を受け渡す"
        shots(d, "4-admin2-release")
        button.click()
        h1(d, "メール一覧")
        d.get(f"{base}/mail/{qid}")
        h1(d, "メールの詳細")
        assert d.find_element(By.ID, "released").text == "承認されました。原本を依頼者に配送します。"
        assert "承認者\nadmin2" in d.find_element(By.ID, "facts").text
        shots(d, "5-released")
    finally:
        d.quit()
        con.stop()
    assert con.sql("SELECT status, approved_by, admin_confirmed_by, release_to FROM quarantine "
                   "WHERE id=?", qid) == [("released", "console:admin2", "console:admin1", "queue")]
    print(f"screenshots: {shots}")


def test_admin_adds_a_clerk_who_logs_in_in_chromium(tmp_path, request):
    """User management in the browser: the admin adds a clerk (the password
    and the TOTP secret shown once, the QR code drawn as markup), the list
    shows the account in Japanese words; the new clerk logs in with the
    shown password and a TOTP computed from the shown secret."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    d = browser()
    shots = Shots(tmp_path, request)
    con = Console(tmp_path)
    try:
        admin = con.user_add("kanri", "admin", dept="情報政策課")
        con.start()
        base = f"http://127.0.0.1:{con.port}"
        login(d, base, admin)
        h1(d, "メール一覧")
        d.find_element(By.LINK_TEXT, "アカウントの管理").click()
        h1(d, "アカウントの管理")
        assert texts(d, "#users th") == ["名前", "役割", "所属", "アドレス", "状態", "操作"]
        shots(d, "1-users")
        form = d.find_element(By.ID, "add-user")
        form.find_element(By.NAME, "name").send_keys("suzuki")
        Select(form.find_element(By.NAME, "role")).select_by_visible_text("担当者")
        form.find_element(By.NAME, "dept").send_keys("税務課")
        form.find_element(By.NAME, "addrs").send_keys("Suzuki@City.Example.LG.JP\nzeimu@city.example.lg.jp")
        form.find_element(By.CSS_SELECTOR, "button").click()
        h1(d, "アカウントを追加しました")
        pw = d.find_element(By.ID, "new-password").text
        uri = d.find_element(By.ID, "otpauth").text
        secret = d.find_element(By.ID, "totp-secret").text
        assert uri == (f"otpauth://totp/mugai:suzuki?secret={secret}&issuer=mugai"
                       "&algorithm=SHA1&digits=6&period=30")
        qr = d.find_element(By.ID, "qr")
        assert qr.size["width"] >= 100 and qr.size["width"] == qr.size["height"]
        shots(d, "2-added")
        # the QR code, read by an independent decoder (zbar), is the URI
        assert qr.screenshot(str(tmp_path / "qr.png"))
        r = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "qr.png")],
                           capture_output=True, timeout=30)
        assert r.stdout.decode().strip() == uri, r
        d.find_element(By.LINK_TEXT, "アカウントの管理に戻る").click()
        h1(d, "アカウントの管理")
        assert texts(d, "#users tr:nth-child(3) td")[:5] == [
            "suzuki", "担当者", "税務課", "suzuki@city.example.lg.jp, zeimu@city.example.lg.jp", "有効"]
        shots(d, "3-users-after")
        logout(d)
        login(d, base, Account("suzuki", pw, uri))
        h1(d, "メール一覧")
        assert d.find_element(By.TAG_NAME, "header").text.endswith("suzuki")
        assert "アカウントの管理" not in d.find_element(By.TAG_NAME, "main").text
        shots(d, "4-new-clerk")
        d.get(base + "/users")
        h1(d, "表示できません")
        assert "アカウントを管理する権限がありません。" in d.find_element(By.TAG_NAME, "main").text
    finally:
        d.quit()
        con.stop()
    (actor, det), = con.sql("SELECT actor, details FROM audit WHERE action='account.add' "
                            "AND object='suzuki'")
    assert actor == "console:kanri" and '"client":"127.0.0.1"' in det
    print(f"screenshots: {shots}")
