#!/bin/sh
# Install the Debian packages mod_sdesk needs to build, test, run the demo
# and benchmark. Installs only what is missing; runs apt-get update once.
#   tools/install-deps.sh [extra packages...]
#   tools/install-deps.sh --list     print the package list (.ci/run uses it)
set -eu
PKGS="build-essential pkg-config apache2 apache2-dev apache2-utils libaprutil1-dev
libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql libjansson-dev libldap-dev
libutf8proc-dev libcmocka-dev libssl-dev slapd ldap-utils postgresql sqlite3 curl
python3 python3-pytest python3-requests python3-psycopg2 wrk clang
libclang-rt-14-dev chromium fonts-dejavu-core"
# Node.js and npm for the browser tests (playwright-core, axe-core from the
# npm registry): Debian's, unless a Node.js with npm is already installed.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
if [ "${1:-}" = "--list" ]; then
    echo $PKGS
    exit 0
fi
[ $# -gt 0 ] && PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
# slapd's and postgresql's postinst start nothing we use; keep them quiet.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
