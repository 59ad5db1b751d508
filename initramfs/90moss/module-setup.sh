#!/bin/bash
# dracut module "moss": offline rollback at early boot. With `moss.fstx=N` on the kernel command
# line, moss-fstx.service runs `moss -D /sysroot state activate N` before switch-root
# (../shared/spec/boot-management.md §6). Installed as /usr/lib/dracut/modules.d/90moss/.

installkernel() {
    return 0
}

check() {
    # Only when asked for (`--add moss`), and only in a systemd initramfs.
    if [[ -x $systemdutildir/systemd ]] && [[ -x /usr/lib/moss/moss-fstx.sh ]] && [[ -f /usr/bin/moss ]]; then
        return 255
    fi
    return 1
}

depends() {
    echo systemd
    return 0
}

install() {
    inst_simple /usr/lib/moss/moss-fstx.sh
    chmod 0755 "${initdir}/usr/lib/moss/moss-fstx.sh"

    # dracut strips every executable file of the image at the end unless --nostrip, and stripping
    # a Bun-compiled binary (even --strip-debug) drops the program it carries: what is left is
    # plain `bun`. So the binary goes in without its executable bits, which the script restores
    # at boot, and its libraries are installed here, because dracut only resolves the libraries
    # of files that are executable when it finishes.
    inst_simple /usr/bin/moss
    chmod 0644 "${initdir}/usr/bin/moss"
    local lib
    for lib in $(ldd /usr/bin/moss 2> /dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\).*/\1/p'); do
        inst_library "$lib"
    done

    inst_simple "${systemdsystemunitdir}/moss-fstx.service"
    # The unit must be linked into initrd-root-fs.target.wants/ inside the image.
    $SYSTEMCTL -q --root "$initdir" enable moss-fstx.service
}
