#!/bin/sh
# Install the unit that blesses a booted moss state's entries (scripts/systemd/moss-bless-boot.service)
# into /usr/lib/systemd/system, and enable it. DESTDIR=<dir> installs below <dir> (a package, an
# image) and enables it with systemctl --root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="${DESTDIR:-}"
install -D -m 0644 "$here/systemd/moss-bless-boot.service" "$dest/usr/lib/systemd/system/moss-bless-boot.service"
if [ -n "$dest" ]; then
    systemctl --root="$dest" enable moss-bless-boot.service
else
    systemctl enable moss-bless-boot.service
fi
echo "installed and enabled moss-bless-boot.service below ${dest:-/}"
