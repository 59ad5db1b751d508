#!/bin/bash
# dracut module "moss": offline rollback at early boot. With `moss.fstx=N` on the kernel command
# line, moss-fstx.service runs `moss -D /sysroot state activate N` before switch-root
# (../shared/spec/boot-management.md §6). Installed as /usr/lib/dracut/modules.d/90moss/.
# MOSS_DRACUT_SOURCE=<dir> takes the files from <dir> (a DESTDIR of
# scripts/install-dracut-module.sh) instead of the host's /usr: for image builds and the VM tests.

installkernel() {
    return 0
}

check() {
    # Only when asked for (`--add moss`), and only in a systemd initramfs.
    local src="${MOSS_DRACUT_SOURCE:-}"
    if [[ -x $systemdutildir/systemd ]] && [[ -x $src/usr/lib/moss/moss-fstx.sh ]] && [[ -f $src/usr/bin/moss ]]; then
        return 255
    fi
    return 1
}

depends() {
    # dracut-systemd brings the emergency.service that the unit's OnFailure= isolates to; without
    # it isolating to emergency.target fails and the boot carries on after a failed exchange.
    echo systemd dracut-systemd
    return 0
}

install() {
    local src="${MOSS_DRACUT_SOURCE:-}"
    inst_simple "$src/usr/lib/moss/moss-fstx.sh" /usr/lib/moss/moss-fstx.sh
    chmod 0755 "${initdir}/usr/lib/moss/moss-fstx.sh"
    inst_multiple awk cat chmod mount

    # dracut strips every executable file of the image at the end unless --nostrip, and stripping
    # a Bun-compiled binary (even --strip-debug) drops the program it carries: what is left is
    # plain `bun`. So the binary goes in without its executable bits, which the script restores
    # at boot, and its libraries are installed here, because dracut only resolves the libraries
    # of files that are executable when it finishes.
    inst_simple "$src/usr/bin/moss" /usr/bin/moss
    chmod 0644 "${initdir}/usr/bin/moss"
    local lib
    for lib in $(ldd "$src/usr/bin/moss" 2> /dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\).*/\1/p'); do
        inst_library "$lib"
    done

    # Where scripts/install-dracut-module.sh puts it (spec §6.1), into wherever this dracut keeps units.
    inst_simple "$src/usr/lib/systemd/system/moss-fstx.service" "${systemdsystemunitdir}/moss-fstx.service"
    # The unit must be linked into initrd-root-fs.target.wants/ inside the image.
    $SYSTEMCTL -q --root "$initdir" add-wants initrd-root-fs.target moss-fstx.service
}
