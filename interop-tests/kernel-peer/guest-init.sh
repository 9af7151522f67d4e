#!/bin/sh
# /init (PID 1) of the kernel peer's QEMU guest: loads wireguard.ko, brings up the two NICs and serves a shell for the
# test harness. It creates no WireGuard interface: the harness does, with ip and wg, as on any host.
#   eth0  the test underlay: addresses come from the harness (each test pair gives its own)
#   eth1  control only: $ctl_ip (kernel command line, default 10.98.0.2/30), shell on TCP port 7777
# Each control connection runs one sh in a session of its own, listed in /run/sessions, so that `ctl-reset` can end
# whatever earlier connections left running (a TCP listener of a failed test, say).

/bin/busybox --install -s /bin
export PATH=/bin WG_COLOR_MODE=never
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

die() { echo "[guest] FATAL: $*"; sleep 1; poweroff -f; }

for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m" || die "insmod $m"
done

# As in the test namespaces: addresses are used at once (duplicate address detection would delay IPv6 by ~2 s), and
# deleting a primary IPv4 address promotes a secondary instead of deleting it too (a test moves a peer's address).
for c in all default eth0; do
    echo 0 > /proc/sys/net/ipv6/conf/$c/accept_dad
    echo 1 > /proc/sys/net/ipv4/conf/$c/promote_secondaries
done
ip link set lo up
ip link set eth0 up
ip addr add "${ctl_ip:-10.98.0.2/30}" dev eth1 || die "eth1 address"
ip link set eth1 up

cat > /bin/ctl-shell <<'EOF'
#!/bin/sh
exec setsid sh -c 'echo $$ >> /run/sessions; exec sh 2>&1'
EOF
cat > /bin/ctl-reset <<'EOF'
#!/bin/sh
# Ends every other control session's process group, then deletes every WireGuard interface and eth0's addresses.
me=$(cut -d' ' -f6 /proc/$$/stat)
for s in $(cat /run/sessions); do
    [ "$s" = "$me" ] || kill -9 -"$s" 2>/dev/null
done
echo "$me" > /run/sessions
for i in $(wg show interfaces); do ip link del dev "$i"; done
ip link set eth0 down
ip addr flush dev eth0
ip link set eth0 up
EOF
chmod 755 /bin/ctl-shell /bin/ctl-reset
: > /run/sessions
# -ll: keep accepting, one forked shell per connection. This busybox nc cannot bind one address, so the port is open
# on eth0 as well, where no test connects to it.
nc -ll -p 7777 -e /bin/ctl-shell &

echo "[guest] JWG-GUEST-READY uptime=$(cut -d' ' -f1 /proc/uptime)s kernel=$(uname -r)"
while true; do sleep 3600; done
