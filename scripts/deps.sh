#!/bin/sh
# deps.sh — install the Debian 12 packages mugai needs, only those missing.
# Called by `make run`, `make check` and `make bench`; safe to run repeatedly.
# Runs apt-get as root, or through sudo when not root.
set -eu

# Build and libraries (DESIGN.md "Dependencies"); bubblewrap and LibreOffice
# (no GUI) for the jailed legacy conversion, poppler-utils for its tests.
PKGS="build-essential pkg-config clang libclang-rt-14-dev
libgmime-3.0-dev libglib2.0-dev libgumbo-dev libcmocka-dev
libmupdf-dev libmujs-dev libharfbuzz-dev libfreetype-dev libjpeg-dev libopenjp2-7-dev libjbig2dec0-dev
libzip-dev libxml2-dev libsqlite3-dev libseccomp-dev zlib1g-dev libdeflate-dev nettle-dev
libmicrohttpd-dev libsodium-dev libqrencode-dev
chromium chromium-driver python3-selenium openssl zbar-tools
python3 python3-pytest qpdf sqlite3 unzip zip p7zip-full
postfix swaks
procps
bubblewrap libreoffice-core-nogui libreoffice-writer-nogui libreoffice-calc-nogui
libreoffice-impress-nogui fonts-ipafont poppler-utils
clamav-daemon"
# clamav-daemon: clamd, the antivirus second opinion (issue #11); the tests
# start their own clamd with a signature database they write (no freshclam).
# The console (libmicrohttpd, libsodium, libqrencode) and its browser test
# (tests/cli/test_console_browser.py: headless Chromium through Selenium);
# openssl makes the HTTPS test's certificate; zbar-tools (zbarimg) reads the
# QR code the console draws for a new account.
# Programs the tests call that a minimal Debian 12 (debootstrap minbase, the
# debian:12 image) lacks: procps (pgrep: test_daemon.py). Already in minbase:
# coreutils (dd, timeout, mknod, mkfifo), mount (mount, umount: tests/e2e),
# passwd (useradd: tests/e2e). Not called by any test: iproute2 (ip), ss.
# Extra packages a test suite asks for: scripts/deps.sh pkg...
if [ "$#" -gt 0 ]; then PKGS="$*"; fi

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postfix (mugaid's end-to-end tests run a private instance) must not ask
# questions nor configure a system mail server: preseed "No configuration".
case " $missing " in *" postfix "*)
	echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
esac
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
