#!/usr/bin/env bash
# Installs the Debian packages sockscope needs to build, run and test (--test), package
# (--package) and check the package (--package-test). Idempotent: does
# nothing when everything is already installed. Uses sudo when not run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libglfw3-dev libimgui-dev python3-glad libgl-dev libgl1-mesa-dri libpng-dev
  libmnl-dev nlohmann-json3-dev libcli11-dev
  fonts-wqy-microhei fonts-dejavu-core
)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(libgtest-dev iproute2 xvfb xauth tshark libcap2-bin util-linux libxml2-utils) ;;
    # scripts/package.sh: the package's tools; scripts/package_test.sh: its checkers.
    --package) packages+=(dpkg-dev file librsvg2-bin libcap2-bin) ;;
    --package-test) packages+=(dpkg-dev file librsvg2-bin libcap2-bin desktop-file-utils appstream lintian) ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "sockscope: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
