#!/bin/bash
# Boots the kernel peer's guest (build-guest.sh builds it) in network namespace NETNS and waits until it is ready.
#
# usage: boot-guest.sh NETNS [CONSOLE_LOG]
#   NETNS is made anew (an earlier one of that name is deleted, and the processes in it ended: an earlier guest);
#   the serial console goes to CONSOLE_LOG (default $CACHE/NETNS.console).
#
#   netns NETNS (no address of its own, IPv6 off: it only switches frames)
#     br0 ── tap0 ── guest eth0   the test underlay: the harness adds the far end of a test's veth to br0
#     ctl0 10.98.0.1/30 ── guest eth1 10.98.0.2/30, shell on port 7777:
#         echo 'wg show all dump' | ip netns exec NETNS $CACHE/busybox nc 10.98.0.2 7777
#
# qemu runs inside the namespace, because a tap is opened by name in the caller's namespace; TCG, because KVM may be
# there without hardware virtualisation behind it (it then never boots). Prints qemu's pid and the boot time.
# Stop the guest with kill PID, then ip netns del NETNS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CACHE:-$here/../cache/kernel-peer}
ns=${1:?usage: boot-guest.sh NETNS}
console=${2:-$cache/$ns.console}
pidfile=$cache/$ns.pid

# A guest left by an earlier run that was killed before it could stop it: end what runs in its namespace.
if [ -e "/var/run/netns/$ns" ]; then
    for pid in $(ip netns pids "$ns"); do kill "$pid"; done
    sleep 0.5
    ip netns del "$ns"
fi

ip netns add "$ns"
in_ns() { ip -n "$ns" "$@"; }
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
in_ns link set lo up
in_ns link add br0 type bridge
in_ns tuntap add dev tap0 mode tap
in_ns link set tap0 master br0
in_ns tuntap add dev ctl0 mode tap
in_ns addr add 10.98.0.1/30 dev ctl0
for dev in br0 tap0 ctl0; do in_ns link set "$dev" up; done

kernel=$cache/vmlinuz
[ -f "$cache/vmlinux" ] && kernel=$cache/vmlinux
rm -f "$console" "$pidfile"
start=$(date +%s%N)
# -cpu max: SSSE3/AVX2 for the kernel's ChaCha20 and Poly1305 code.
ip netns exec "$ns" qemu-system-x86_64 -accel tcg -cpu max -m 256 -smp 1 \
    -nodefaults -no-user-config -no-reboot -display none -serial "file:$console" \
    -kernel "$kernel" -initrd "$cache/initramfs.cpio.gz" \
    -append "console=ttyS0 quiet panic=-1 ctl_ip=10.98.0.2/30" \
    -netdev tap,id=test,ifname=tap0,script=no,downscript=no \
    -device virtio-net-pci,netdev=test,mac=52:54:00:6b:00:01,romfile= \
    -netdev tap,id=ctl,ifname=ctl0,script=no,downscript=no \
    -device virtio-net-pci,netdev=ctl,mac=52:54:00:6b:00:02,romfile= \
    -daemonize -pidfile "$pidfile"
pid=$(cat "$pidfile")
for _ in $(seq 600); do                    # up to 60 s
    if grep -q JWG-GUEST-READY "$console" 2>/dev/null; then
        echo "pid $pid, ready after $(( ($(date +%s%N) - start) / 1000000 )) ms: $(grep -a JWG-GUEST-READY "$console")"
        exit 0
    fi
    if grep -q FATAL "$console" 2>/dev/null || ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
done
echo "the guest did not become ready; its console:" >&2
tail -30 "$console" >&2
kill "$pid" 2>/dev/null || true
exit 1
