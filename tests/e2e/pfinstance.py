"""A private Postfix instance for mugai's end-to-end tests and benchmark.

Everything lives under one directory: its own config_directory, queue,
data directory, maillog and virtual Maildirs; it listens on loopback ports
chosen at random; it is started with `postfix -c DIR start` and stopped with
`postfix -c DIR stop`. The system Postfix instance is never touched.

Mail path (Postfix's after-queue content filter, FILTER_README):
  smtpd :SMTP (content_filter = mugai:[127.0.0.1]:FILTER)
    → mugai transport (smtp client, XFORWARD) → mugaid :FILTER
    → mugaid next_hop smtp:127.0.0.1:REINJ → smtpd :REINJ (content_filter=)
    → virtual(8) → DIR/mail/<local part>/new/
With filter=False the same instance relays without a filter (bench ceiling).
With milter=True there is no content filter: smtpd asks mugaid's milter
front (smtpd_milters = inet:127.0.0.1:MILTER, milter_default_action =
tempfail) and queues the rebuilt message once:
  smtpd :SMTP ⇄ mugaid milter_listen :MILTER → virtual(8) → DIR/mail/...
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import time

SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


# Mailboxes of the private instance (texthash map: virtual(8) forbids regexp
# substitution in virtual_mailbox_maps).
USERS = ["taro", "hanako", "jiro", "saburo", "shiro"] + [f"user{i}" for i in range(10)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_user(name="mugai"):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        name], check=True)
        return pwd.getpwnam(name)


class Postfix:
    def __init__(self, base, filter=True, maxproc=4, domain="lg.example.jp", milter=False):
        self.base, self.domain, self.filter, self.milter = base, domain, filter and not milter, milter
        self.etc, self.spool = f"{base}/etc", f"{base}/spool"
        self.mail, self.maillog = f"{base}/mail", f"{base}/maillog"
        self.smtp_port, self.reinj_port, self.filter_port = free_port(), free_port(), free_port()
        self.milter_port = free_port()
        self.maxproc = maxproc

    def main_cf(self):
        nobody = pwd.getpwnam("nobody")
        cf = {
            "compatibility_level": "3.6",
            "queue_directory": self.spool,
            "data_directory": f"{self.base}/data",
            "mail_owner": "postfix", "setgid_group": "postdrop",
            "myhostname": "e2e.mugai.test", "mydomain": "mugai.test",
            "inet_interfaces": "127.0.0.1", "inet_protocols": "ipv4",
            "mydestination": "", "relay_domains": "", "mynetworks": "127.0.0.0/8",
            "alias_maps": "", "alias_database": "", "biff": "no",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject",
            "virtual_mailbox_domains": self.domain,
            "virtual_mailbox_base": self.mail,
            "virtual_mailbox_maps": f"texthash:{self.etc}/vmailbox",
            "virtual_uid_maps": f"static:{nobody.pw_uid}",
            "virtual_gid_maps": f"static:{nobody.pw_gid}",
            "virtual_minimum_uid": "1",
            "maillog_file": self.maillog, "maillog_file_prefixes": self.base,
            "minimal_backoff_time": "2s", "maximal_backoff_time": "4s",
            "queue_run_delay": "2s", "smtp_connect_timeout": "5s",
            "message_size_limit": "20480000", "smtputf8_enable": "yes",
            "disable_dns_lookups": "yes", "smtp_dns_support_level": "disabled",
            "default_destination_concurrency_limit": "20",
            "in_flow_delay": "0",
            "smtpd_forbid_bare_newline": "yes",
        }
        if self.filter:
            cf["content_filter"] = f"mugai:[127.0.0.1]:{self.filter_port}"
        if self.milter:
            cf["smtpd_milters"] = f"inet:127.0.0.1:{self.milter_port}"
            cf["milter_default_action"] = "tempfail"
            cf["milter_protocol"] = "6"
        return "".join(f"{k} = {v}\n" for k, v in cf.items())

    def master_cf(self, reinj=True):
        out = [SERVICES, f"127.0.0.1:{self.smtp_port} inet n - n - - smtpd\n"]
        if reinj:
            out.append(f"""127.0.0.1:{self.reinj_port} inet n - n - - smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_helo_restrictions=
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_relay_restrictions=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
""")
        out.append(f"""mugai unix - - n - {self.maxproc} smtp
  -o smtp_send_xforward_command=yes
  -o smtp_data_done_timeout=1200s
  -o disable_dns_lookups=yes
  -o max_use=20
""")
        return "".join(out)

    def write_master(self, reinj=True):
        with open(f"{self.etc}/master.cf", "w") as f:
            f.write(self.master_cf(reinj))

    def setup(self):
        for d in (self.etc, self.mail, self.spool, f"{self.base}/data"):
            os.makedirs(d, exist_ok=True)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        with open(f"{self.etc}/main.cf", "w") as f:
            f.write(self.main_cf())
        with open(f"{self.etc}/vmailbox", "w") as f:
            for u in USERS:
                f.write(f"{u}@{self.domain} {u}/\n")
        self.write_master()
        for name in ("dynamicmaps.cf", "postfix-files"):
            shutil.copy(f"/etc/postfix/{name}", f"{self.etc}/{name}")
        if os.path.isdir("/etc/postfix/dynamicmaps.cf.d"):
            shutil.copytree("/etc/postfix/dynamicmaps.cf.d", f"{self.etc}/dynamicmaps.cf.d",
                            dirs_exist_ok=True)
        if os.path.isdir("/etc/postfix/postfix-files.d"):
            shutil.copytree("/etc/postfix/postfix-files.d", f"{self.etc}/postfix-files.d",
                            dirs_exist_ok=True)
        self.postfix("set-permissions")
        return self

    def postfix(self, *args, check=True):
        r = subprocess.run(["postfix", "-c", self.etc, *args], capture_output=True, text=True,
                           timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"postfix {args}: {r.stdout} {r.stderr} {self.why(args)}")
        return r

    def why(self, args):
        """Postfix reports fatal setup errors only to syslog: when this machine
        has none, listen on /dev/log while the command is run again."""
        if os.path.exists("/dev/log"):
            return "(see syslog)"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            s.bind("/dev/log")
            s.settimeout(1.5)
            subprocess.run(["postfix", "-c", self.etc, *args], capture_output=True, timeout=60)
            out = []
            while True:
                out.append(s.recv(4096).decode(errors="replace"))
        except OSError:
            return " | ".join(out) if "out" in dir() else ""
        finally:
            s.close()
            try:
                os.unlink("/dev/log")
            except OSError:
                pass

    def start(self):
        self.postfix("start")
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", self.smtp_port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("postfix did not start: " + self.log())

    def stop(self):
        self.postfix("stop", check=False)

    def reload(self):
        self.postfix("reload")

    def flush(self):
        subprocess.run(["postqueue", "-c", self.etc, "-f"], capture_output=True, timeout=60)

    def queue_empty(self):
        r = subprocess.run(["postqueue", "-c", self.etc, "-j"], capture_output=True, text=True,
                           timeout=60)
        return r.stdout.strip() == ""

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def delivered_files(self):
        return glob.glob(f"{self.mail}/*/new/*") + glob.glob(f"{self.mail}/*/cur/*")
