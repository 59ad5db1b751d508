#!/bin/sh
# Install moss-ts and its dracut module where spec boot-management §6.1 puts them:
#   /usr/bin/moss                                   the binary (npm run build writes dist/moss)
#   /usr/lib/moss/moss-fstx.sh                      the script the unit runs
#   /usr/lib/systemd/system/moss-fstx.service       the unit
#   /usr/lib/dracut/modules.d/90moss/module-setup.sh
# DESTDIR=<dir> installs below <dir> instead of / (a package build, an image). Then build an
# initramfs with the module: dracut --add moss ... (it is included only when asked for).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dest="${DESTDIR:-}"
binary="${MOSS_BINARY:-$here/dist/moss}"
if [ ! -f "$binary" ]; then
    echo "install-dracut-module.sh: $binary does not exist: run npm run build first" >&2
    exit 1
fi
install -D -m 0755 "$binary" "$dest/usr/bin/moss"
install -D -m 0755 "$here/initramfs/moss-fstx.sh" "$dest/usr/lib/moss/moss-fstx.sh"
install -D -m 0644 "$here/initramfs/moss-fstx.service" "$dest/usr/lib/systemd/system/moss-fstx.service"
install -D -m 0755 "$here/initramfs/90moss/module-setup.sh" "$dest/usr/lib/dracut/modules.d/90moss/module-setup.sh"
echo "installed moss and the dracut module 'moss' below ${dest:-/}"
