#!/usr/bin/env bash
# Install every Debian package ringpiped needs to build, test and benchmark,
# when it is missing.  Safe to run repeatedly; does nothing when all is there.
set -euo pipefail

PKGS=(build-essential pkg-config clang libclang-rt-14-dev
      liburing-dev libssl-dev libbenchmark-dev libcmocka-dev
      spiped openssl python3 curl gnuplot-nox iproute2 procps psmisc nginx
      python3-cryptography graphite-carbon python3-whisper
      systemd)
# --metrics (libmicrohttpd), and promtool (in prometheus) for t_metrics.
PKGS+=(libmicrohttpd-dev prometheus)
# t_network: loss and blackholes between two network namespaces (the
# kernel may have no netem; nftables rules in each namespace do it).
PKGS+=(nftables)
# t_fleet: HAProxy in front of three ringpiped -d, checking /readyz.
PKGS+=(haproxy)
case "$(uname -m)" in
  x86_64) PKGS+=(libipsec-mb-dev) ;;
esac
# What ships (t_ship: man pages, the systemd unit, the .deb) and the arm64
# cross build run under qemu (t_arm64); the :arm64 libraries come from
# multiarch (arm64 is added to dpkg's architectures below when needed).
PKGS+=(mandoc groff-base lintian strace systemd dpkg-dev
       gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
       libssl-dev:arm64 liburing-dev:arm64 libcmocka-dev:arm64)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' &&
    ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $SUDO dpkg --add-architecture arm64
fi
echo "ci/deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
# Debian starts nginx on install; the tests run their own instances.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
$SUDO pkill -x nginx 2>/dev/null || true
# And prometheus (t_metrics only runs promtool), and haproxy (t_fleet runs
# its own).
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  $SUDO systemctl disable --now haproxy >/dev/null 2>&1 || true
fi
exit 0
