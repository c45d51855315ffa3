#!/usr/bin/env bash
# Builds the Debian package, checks it (desktop-file-validate, appstreamcli validate,
# lintian: errors fail, warnings are shown), installs it with dpkg, checks the installed
# helper's capabilities and runs a lesson that needs gates and capture as nobody with
# it, then removes the package. Needs root (or sudo) for dpkg. CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --package-test
scripts/package.sh
deb="$(ls build/package/sockscope_*.deb)"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

desktop-file-validate packaging/org.sockscope.Sockscope.desktop
appstreamcli validate --no-net build/package/packaging/org.sockscope.Sockscope.metainfo.xml
# lintian: an error fails; the rest is printed. It also says nothing about a package's
# own name-based tags we cannot meet (no real home page or licence yet): none are errors.
lintian --fail-on error --tag-display-limit 0 "$deb" || { echo "package_test: lintian found errors" >&2; exit 1; }

cleanup() { $sudo dpkg -r sockscope >/dev/null 2>&1 || true; }
trap cleanup EXIT
$sudo dpkg -i "$deb"
getcap /usr/libexec/sockscope/sockscope-helper | grep -q "cap_net_admin,cap_net_raw=ep" ||
  { echo "package_test: the helper lacks its capabilities: $(getcap /usr/libexec/sockscope/sockscope-helper)" >&2; exit 1; }
/usr/bin/sockscope --version
# As a student: gates and capture through the installed helper, no --private-network.
out="$(cd / && $sudo setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/sockscope --headless --lesson three-way-handshake 2>&1)" ||
  { echo "$out" >&2; echo "package_test: the lesson failed as nobody" >&2; exit 1; }
echo "$out" | grep "captured on lo through sockscope-helper" ||
  { echo "$out" >&2; echo "package_test: no capture through the helper" >&2; exit 1; }
$sudo dpkg -r sockscope
trap - EXIT
[ ! -e /usr/bin/sockscope ] && [ ! -e /usr/libexec/sockscope/sockscope-helper ] ||
  { echo "package_test: files left after dpkg -r" >&2; exit 1; }
echo "package_test: built, validated, installed, used as nobody and removed $(basename "$deb")"
