# Sourced by bench/compare and bench/profile: one WireGuard implementation on both ends of two network namespaces
# over veth. a is 10.98.0.1 (veth, MTU 1500), 10.97.0.1 in the tunnel (wgba, MTU 1420, port 51820); b is 10.98.0.2,
# 10.97.0.2 (wgbb, port 51821). The names are this harness's own (jwgb-*, wgb*), apart from the interop tests'.
# Expects $top (the repository) to be set.

A=jwgb-a B=jwgb-b IFA=wgba IFB=wgbb
declare -A impl_cmd=([jwg]="$top/bin/jwg" [wireguard-go]=wireguard-go)
declare -A ns_of=([a]=$A [b]=$B) if_of=([a]=$IFA [b]=$IFB)

# Points the functions below at pair N of namespaces, for a script that runs several tunnels at once (bench/soak):
# jwgb-aN/jwgb-bN with interfaces wgbaN/wgbbN; no N is the one pair the other scripts use. The interface names must
# differ as well as the namespaces: a userspace daemon's UAPI socket is /var/run/wireguard/IFNAME.sock, one directory
# for every namespace. Addresses and ports stay the same, each pair has its own network stack.
tunnel_pair() { # [N]
  A=jwgb-a${1:-} B=jwgb-b${1:-} IFA=wgba${1:-} IFB=wgbb${1:-}
  ns_of=([a]=$A [b]=$B) if_of=([a]=$IFA [b]=$IFB)
}
# Set by start_tunnel: the daemons' pids, and how long each start-up took (ms).
pid_a="" pid_b="" startup_ms_a="" startup_ms_b=""

# One bench run at a time on the machine: they share the namespace and interface names. Up to 30 s of waiting: the
# last processes of the run before may still be exiting (CI's GarbageFloodIT, started 70 ms after OverloadIT ended,
# found the lock held and failed).
tunnel_lock() {
  exec 9>/run/lock/jwg-bench-tunnel.lock
  flock -w 30 9 || { echo "$(basename "$0"): another bench run holds the machine (/run/lock/jwg-bench-tunnel.lock)" >&2
                     exit 1; }
}

inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# The file a command word names: a path as given, or else the one on PATH; resolved through symlinks.
command_file() { # WORD
  local f
  case $1 in */*) f=$1 ;; *) f=$(type -P "$1") || return 1 ;; esac
  readlink -f "$f"
}

# The WireGuard daemon in NS, right after its start, when it (and whatever it left behind) is all the fresh namespace
# holds. Among the live processes there, apart from tools this harness runs, the newest whose executable is EXE (the
# started command's own file, when it is a binary) or a JVM or wireguard-go (bin/jwg and wrappers end in java); else
# the newest of any kind, so a command that is neither still gets measured.
daemon_pid() { # NS [EXE]
  local p exe stat start state best="" best_start=-1 any="" any_start=-1
  for p in $(ip netns pids $1); do
    stat=$(sed 's/.*) //' /proc/$p/stat 2>/dev/null) || continue
    state=${stat%% *}
    [ "$state" = Z ] || [ "$state" = X ] && continue
    start=$(echo "$stat" | cut -d' ' -f20)
    exe=$(readlink /proc/$p/exe 2>/dev/null) || continue
    exe=${exe% (deleted)}
    case ${exe##*/} in iperf3|ip|wg|ss|sysctl|timeout|sleep) continue ;; esac
    if [ "$exe" = "${2:-}" ] || [[ $exe == */java || $exe == */wireguard-go ]]; then
      [ "$start" -gt $best_start ] && best=$p best_start=$start
    fi
    [ "$start" -gt $any_start ] && any=$p any_start=$start
  done
  [ -n "$best" ] && { echo $best; return 0; }
  [ -n "$any" ] && { echo $any; return 0; }
  return 1
}

wait_port() { # NS tcp|udp PORT: until something listens there (5 s at most)
  local i flag=$([ $2 = tcp ] && echo t || echo u)
  for i in $(seq 100); do
    inns $1 ss -Hln$flag "sport = :$3" | grep -q . && return 0
    sleep 0.05
  done
  return 1
}

# Ends a process this harness started and waits until it is gone, so its port is free for the next one. A zombie
# counts as gone: the daemons and tools are orphans, reaped by pid 1 in its own time.
stop() { # PID
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 60); do
    [ "$(sed 's/.*) //' /proc/$1/stat 2>/dev/null | cut -c1)" = Z ] || [ ! -e /proc/$1 ] && return 0
    sleep 0.05
  done
  kill -9 "$1" 2>/dev/null || true
}

# Ends every process in the two namespaces (all started by this harness) and deletes them.
teardown() {
  local ns p
  for ns in $A $B; do for p in $(ip netns pids $ns 2>/dev/null); do kill $p 2>/dev/null || true; done; done
  for _ in $(seq 30); do
    [ -z "$(ip netns pids $A 2>/dev/null)$(ip netns pids $B 2>/dev/null)" ] && break
    sleep 0.1
  done
  for ns in $A $B; do
    for p in $(ip netns pids $ns 2>/dev/null); do kill -9 $p 2>/dev/null || true; done
    ip netns del $ns 2>/dev/null || true
  done
  pid_a="" pid_b=""
}

setup_namespaces() {
  teardown
  ip netns add $A && ip netns add $B || return 1
  ip link add v0 netns $A type veth peer name v0 netns $B || return 1
  local side i=1
  for side in a b; do
    local ns=${ns_of[$side]}
    ip -n $ns link set lo up
    # No IPv6: a TUN device would otherwise send router solicitations into the tunnel and start the handshake
    # before the first-packet measurement does.
    inns $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n $ns addr add 10.98.0.$i/24 dev v0 && ip -n $ns link set v0 mtu 1500 up || return 1
    i=$((i + 1))
  done
}

# Starts IMPL on both sides (timing each start-up) and configures the tunnel with the key pairs in KEYS (a.key,
# a.pub, b.key, b.pub), but sends nothing through it: the first packet will handshake. Daemon output goes to
# LOG-a.log and LOG-b.log. IMPL's command (impl_cmd) is split at blanks, so it may carry arguments; the interface
# name comes last, as for wireguard-go.
start_tunnel() { # IMPL KEYS LOG
  local impl=$1 keys=$2 side t0 us pid exe cmd
  read -ra cmd <<< "${impl_cmd[$impl]}"
  exe=$(command_file "${cmd[0]}") || exe=""
  for side in a b; do
    t0=$(date +%s%N)
    inns ${ns_of[$side]} "${cmd[@]}" ${if_of[$side]} >> "$3-$side.log" 2>&1 || return 1
    us=$((($(date +%s%N) - t0) / 1000))
    eval startup_ms_$side=$((us / 1000)).$(printf %03d $((us % 1000)))
    pid=$(daemon_pid ${ns_of[$side]} "$exe") || return 1
    eval pid_$side=$pid
  done
  inns $A wg set $IFA private-key "$keys/a.key" listen-port 51820 || return 1
  inns $B wg set $IFB private-key "$keys/b.key" listen-port 51821 || return 1
  add_peers "$keys" || return 1
  ip -n $A addr add 10.97.0.1/24 dev $IFA && ip -n $A link set $IFA mtu 1420 up || return 1
  ip -n $B addr add 10.97.0.2/24 dev $IFB && ip -n $B link set $IFB mtu 1420 up
}

# Each end's peer: the other end, with its tunnel address and endpoint (start_tunnel; bench/compare adds them again).
add_peers() { # KEYS
  inns $A wg set $IFA peer "$(cat "$1/b.pub")" allowed-ips 10.97.0.2/32 endpoint 10.98.0.2:51821 &&
    inns $B wg set $IFB peer "$(cat "$1/a.pub")" allowed-ips 10.97.0.1/32 endpoint 10.98.0.1:51820
}

# The flooders' addresses in a's namespace (bench/flood, bench/garbage): 13 beside a's own, so that b sees a flood
# from many sources, 64 ports each.
flood_sources=$(seq -s, -f '10.98.0.%g' 100 112)
add_flood_sources() {
  local i
  for i in $(seq 100 112); do ip -n $A addr add 10.98.0.$i/24 dev v0 || return 1; done
}

make_keys() { # DIR: a.key, a.pub, b.key, b.pub
  local side
  for side in a b; do
    (umask 077; wg genkey > "$1/$side.key")
    wg pubkey < "$1/$side.key" > "$1/$side.pub"
  done
}

iperf3_server() { # PIDFILE: iperf3 -s in b, until stopped
  inns $B iperf3 -s -D --pidfile "$1" >/dev/null 2>&1
  wait_port $B tcp 5201
}
iperf3_server_stop() { [ -f "$1" ] && stop "$(cat "$1")"; rm -f "$1"; }
