#!/bin/sh
# Install the Debian packages given as arguments when some are missing.
# As root: apt-get. Otherwise: say which are missing (the tests that need them will say so too).
set -eu
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # the packages' own services (dovecot, kannel) must not start system-wide: tests run private instances
  apt-get install -y -qq --no-install-recommends $missing </dev/null
else
  echo "missing Debian packages:$missing (run as root to install them with apt-get)" >&2
fi
