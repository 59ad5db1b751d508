#!/bin/sh
# moss-ts offline rollback (../shared/spec/boot-management.md §6.4, and §6.6 "Ours"): activate the
# state named by moss.fstx=N on the root mounted at $1, before switch-root. Whatever cannot be
# done is said on the console and the machine boots the state it has; only a failed /usr exchange
# is a failure (the unit then isolates to the emergency target).

type getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh

say() {
    echo "moss-fstx: $*" >&2
}

sysroot="$1"
if [ -z "$sysroot" ]; then
    say "usage: moss-fstx.sh SYSROOT"
    exit 1
fi

wanted=$(getarg moss.fstx)
[ -z "$wanted" ] && exit 0
case "$wanted" in
    *[!0-9]*)
        say "moss.fstx=$wanted is not a state id: booting the current state"
        exit 0
        ;;
esac

# module-setup.sh installs the binary without its executable bits (so dracut cannot strip it).
if ! command -v moss > /dev/null 2>&1 && [ -f /usr/bin/moss ]; then
    chmod 0755 /usr/bin/moss
fi
if ! command -v moss > /dev/null 2>&1; then
    say "no moss binary in the initramfs: booting the current state"
    exit 0
fi

current=$(cat "$sysroot/usr/.stateID" 2> /dev/null)
if [ -z "$current" ]; then
    say "$sysroot/usr has no .stateID, so it is not a moss state: left as it is"
    exit 0
fi
[ "$current" = "$wanted" ] && exit 0

# A root mounted read-only (`ro` on the command line) is made writable for the rollback only.
remounted=
options=$(awk -v m="$sysroot" '$2 == m { o = $4 } END { print o }' /proc/mounts)
case ",$options," in
    *,ro,*)
        if mount -o remount,rw "$sysroot"; then
            remounted=1
        else
            say "$sysroot is read-only and cannot be remounted read-write: booting state $current"
            exit 0
        fi
        ;;
esac

say "activating state $wanted (the root is on state $current)"
moss -D "$sysroot" state activate -y --skip-triggers --skip-boot "$wanted" >&2
status=$?
now=$(cat "$sysroot/usr/.stateID" 2> /dev/null)
[ -n "$remounted" ] && mount -o remount,ro "$sysroot"

if [ "$status" -eq 0 ]; then
    say "state $wanted is active"
    exit 0
fi
if [ "$now" = "$wanted" ]; then
    # The exchange happened and moss stopped after it: the next moss run tidies what it left.
    say "state $wanted is active, but moss exited $status after switching to it"
    exit 0
fi
if [ -z "$now" ]; then
    say "activating state $wanted failed and left $sysroot/usr without a state"
    exit 1
fi
if [ -e "$sysroot/.moss/root/.moss-transaction" ]; then
    # moss passed its checks and stopped during the /usr exchange: the one hard failure. The root
    # is still whole on state $now (the next moss run finishes the cleanup), but the rollback that
    # was asked for did not happen, so the boot stops here rather than going on in the state the
    # admin chose to leave.
    say "activating state $wanted failed during the /usr exchange (moss exited $status); $sysroot is still on state $now"
    exit 1
fi
say "state $wanted could not be activated (moss exited $status): booting state $now"
exit 0
