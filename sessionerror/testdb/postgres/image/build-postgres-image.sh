#!/usr/bin/env bash
# Build the local PostgreSQL 15 test image for sessionerror's container tier, from Debian
# packages (no image registry needed): debootstrap bookworm with postgresql-15 into a temp dir,
# add postgres-entrypoint.sh (next to this script), `docker import` the tree. Shipped in the wheel
# and run by `sessionerror build-image`; docker/build-postgres-image.sh in the repository calls it.
#
#   sessionerror build-image            # reuse the image if it is already built
#   sessionerror build-image --force    # rebuild
#
# Needs root, debootstrap and a running Docker engine. Environment:
#   SESSIONERROR_IMAGE   tag to build (default sessionerror/postgres:15-local)
#   DEBIAN_MIRROR        Debian mirror (default: the bookworm mirror in this machine's apt sources)
set -euo pipefail

image=${SESSIONERROR_IMAGE:-sessionerror/postgres:15-local}
suite=bookworm
here=$(cd "$(dirname "$0")" && pwd)
entrypoint="$here/postgres-entrypoint.sh"
force=0
[[ "${1:-}" == "--force" ]] && force=1

die() { echo "build-postgres-image: $*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed: apt-get install -y docker.io"
docker info >/dev/null 2>&1 || die "no Docker engine answers: start one (e.g. dockerd --iptables=false --ip=127.0.0.1 &)"

# The entrypoint's hash is a label: an image built from an older entrypoint is rebuilt.
digest=$(sha256sum "$entrypoint" | cut -c1-16)
if [[ $force == 0 ]] && existing=$(docker image inspect --format '{{ index .Config.Labels "org.sessionerror.entrypoint" }}' "$image" 2>/dev/null); then
    if [[ "$existing" == "$digest" ]]; then
        echo "build-postgres-image: $image exists, reusing it (--force rebuilds)"
        exit 0
    fi
    echo "build-postgres-image: $image was built from another entrypoint; rebuilding"
fi

[[ $(id -u) == 0 ]] || die "debootstrap needs root: run it with sudo"
command -v debootstrap >/dev/null || die "debootstrap is not installed: apt-get install -y debootstrap"

# The mirror named in this machine's apt sources (deb822 .sources or one-line .list files).
find_mirror() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$file" ]] || continue
        awk -v suite="$suite" '
            /^[[:space:]]*deb[[:space:]]/ {
                n = 2; if ($n ~ /^\[/) { while ($n !~ /\]$/) n++; n++ }
                if ($(n + 1) == suite) { print $n; exit }
            }
            /^URIs:/ { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = 1 }
            /^[[:space:]]*$/ { if (found && uri) { print uri; exit } uri = ""; found = 0 }
            END { if (found && uri) print uri }
        ' "$file"
    done | head -n 1
}
mirror=${DEBIAN_MIRROR:-$(find_mirror)}
[[ -n "$mirror" ]] || die "no $suite mirror in /etc/apt/sources.list*: set DEBIAN_MIRROR=http://deb.debian.org/debian"

root=$(mktemp -d -t sessionerror-rootfs-XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "build-postgres-image: debootstrap $suite from $mirror (about two minutes)"
debootstrap --variant=minbase --include=postgresql-15 "$suite" "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 20 "$root.log" >&2; rm -f "$root.log"; die "debootstrap failed (log tail above)"; }
rm -f "$root.log"

# The package's own cluster and caches are dead weight in a test image.
rm -rf "$root/var/lib/postgresql/15/main" "$root/etc/postgresql/15/main" \
    "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* \
    "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/locale"
install -m 0755 "$entrypoint" "$root/usr/local/bin/postgres-entrypoint.sh"

tar -C "$root" -c . | docker import \
    -c 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]' \
    -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'ENV PGDATA=/var/lib/postgresql/data' \
    -c 'EXPOSE 5432' \
    -c "LABEL org.sessionerror.entrypoint=$digest" \
    -m "sessionerror PostgreSQL 15 test image (debootstrap $suite, $mirror)" \
    - "$image" >/dev/null
echo "build-postgres-image: built $image ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%d MB", $1 / 1e6}'))"
