#!/usr/bin/env bash
# make deb: build ringpiped_<version>_<arch>.deb with dpkg-deb from the
# binaries already built in $BUILD, the man pages, the systemd units, the
# example files and the README.  Dependencies come from dpkg-shlibdeps; the result is checked with
# lintian by the tests (tests/integ/t_ship.sh).
#
#   scripts/mkdeb.sh BUILD OUTDIR [ARCH]
#
# ARCH defaults to dpkg's own architecture; for a cross build (arm64) give
# it, and STRIP=aarch64-linux-gnu-strip in the environment.  Prints the path
# of the package.
set -euo pipefail
BUILD=${1:?usage: mkdeb.sh BUILD OUTDIR [ARCH]}
OUT=${2:?usage: mkdeb.sh BUILD OUTDIR [ARCH]}
ARCH=${3:-$(dpkg --print-architecture)}
STRIP=${STRIP:-strip}
cd "$(dirname "$0")/.."

VERSION=$(sed -n 's/^#define RINGPIPED_VERSION "\(.*\)"$/\1/p' src/ringpiped.c)
[ -n "$VERSION" ] || { echo "mkdeb: no RINGPIPED_VERSION in src/ringpiped.c" >&2; exit 1; }
MAINT="Seed 9e16eed5 maintainers <maintainers@users.noreply.r-seed-9e16eed5.example>"
# Reproducible: every date and mtime is the last commit's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
for f in "$BUILD/ringpiped" "$BUILD/ringpipe"; do
  [ -x "$f" ] || { echo "mkdeb: $f is not built" >&2; exit 1; }
done

work=$(mktemp -d /tmp/rp-mkdeb.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/root
doc=$root/usr/share/doc/ringpiped
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
  "$root/usr/share/man/man5" "$root/lib/systemd/system" "$doc/examples"

for p in ringpiped ringpipe; do
  install -m 0755 "$BUILD/$p" "$root/usr/bin/$p"
  "$STRIP" --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$root/usr/bin/$p"
  gzip -9n <"man/$p.1" >"$root/usr/share/man/man1/$p.1.gz"
done
gzip -9n <man/ringpiped.conf.5 >"$root/usr/share/man/man5/ringpiped.conf.5.gz"
install -m 0644 'systemd/ringpiped@.service' 'systemd/ringpiped@.socket' \
  systemd/ringpiped-config.service "$root/lib/systemd/system/"
install -m 0644 systemd/example.conf "$doc/examples/example.conf"
install -m 0644 systemd/ringpiped.conf "$doc/examples/ringpiped.conf"
gzip -9n <README.md >"$doc/README.md.gz"

# ringpiped-config.service is for systemd: the package ships no SysV init
# script (lintian does not ask one for the template ringpiped@.service).
install -d -m 0755 "$root/usr/share/lintian/overrides"
cat >"$root/usr/share/lintian/overrides/ringpiped" <<'EOF'
# The units are for systemd only; no SysV init script is shipped.
ringpiped: package-supports-alternative-init-but-no-init.d-script [lib/systemd/system/ringpiped-config.service]
EOF
chmod 0644 "$root/usr/share/lintian/overrides/ringpiped"

cat >"$doc/copyright" <<EOF
ringpiped: a spiped-compatible secure pipe daemon.

Copyright $(date -u -d "@$SOURCE_DATE_EPOCH" +%Y) $MAINT

The ringpiped sources do not state a license yet; until they do, no
license beyond use of this package is granted.

ringpiped implements the wire protocol of spiped 1.6.2 by Colin Percival
(https://www.tarsnap.com/spiped.html), which is under the BSD 2-clause
license; it is tested against Debian's spiped package.
EOF

date_rfc=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
cat >"$work/changelog" <<EOF
ringpiped ($VERSION) unstable; urgency=medium

  * Package built from the ringpiped source tree with scripts/mkdeb.sh:
    ringpiped and ringpipe, their man pages and ringpiped.conf(5), the
    ringpiped@.service template, ringpiped@.socket, ringpiped-config.service
    for a configuration file of pipes, examples, and the README.

 -- $MAINT  $date_rfc
EOF
gzip -9n <"$work/changelog" >"$doc/changelog.gz"

# The system user the template's services run as (ringpiped@.service:
# User=ringpiped), made as Debian packages make theirs; kept on removal
# and purge, as Debian does with system users (files it owns may remain).
cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	adduser --system --group --quiet --no-create-home --home /nonexistent \
		--gecos 'ringpiped secure pipe' ringpiped
fi
EOF

# Stop running instances on removal, and let systemd forget the unit after
# (the same steps debhelper's dh_installsystemd writes).
cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	deb-systemd-invoke stop 'ringpiped@*.socket' 'ringpiped@*.service' \
		ringpiped-config.service >/dev/null || true
fi
EOF
cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"

# Shared-library dependencies, as debhelper would find them.
mkdir -p "$work/src/debian"
printf 'Source: ringpiped\n\nPackage: ringpiped\nArchitecture: any\n' \
  >"$work/src/debian/control"
depends=$(cd "$work/src" && DEB_HOST_ARCH=$ARCH dpkg-shlibdeps -O \
  "$root/usr/bin/ringpiped" "$root/usr/bin/ringpipe" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# libmicrohttpd is loaded with dlopen (--metrics), so dpkg-shlibdeps cannot
# see it: the soname the binary names gives the package.
mhd=$(strings "$root/usr/bin/ringpiped" | grep -m1 '^libmicrohttpd\.so\.[0-9]*$' || true)
[ -z "$mhd" ] || depends="$depends, libmicrohttpd${mhd##*.so.}"

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: ringpiped
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINT
Installed-Size: $size
Depends: $depends, adduser
Suggests: spiped
Section: net
Priority: optional
Description: spiped-compatible secure pipe daemon on io_uring or epoll
 ringpiped is a drop-in replacement for spiped: the same wire protocol,
 byte for byte, and the same flags.  It carries TCP or UNIX socket
 connections over AES-256-CTR + HMAC-SHA256 with a Diffie-Hellman
 handshake, using per-core io_uring workers (or epoll where io_uring is
 blocked, as in most containers) and batched multi-buffer crypto.
 .
 ringpipe is the matching client, like spipe.  A systemd template unit,
 ringpiped@.service, runs one pipe per /etc/ringpiped/NAME.conf, as the
 system user ringpiped; ringpiped@.socket can listen for it.
 ringpiped-config.service runs every pipe of /etc/ringpiped/ringpiped.conf
 (ringpiped.conf(5)) in one process, on one set of per-core workers.
EOF

(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$OUT"
deb="$OUT/ringpiped_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
