# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The helpers of the ICMP-error cases (54, 58): a TLS flow held before its
# hello, the router's forged "packet too big" quoting it, and what the
# client's conntrack and stack made of it. Sourced after lib.sh and
# agent.sh.

# tls_open NAME DST SPORT: a TCP connection from the client's SPORT to
# DST:443, handshake done, no payload; its TLS hello waits for tls_hello.
tls_open() {
	rm -f "$WORK/$1".*
	bg in_ns "$NS_CLIENT" python3 "$WORK/tlsflow.py" "$WORK/$1" "$2" "$3"
	_i=0
	while [ ! -e "$WORK/$1.connected" ]; do
		[ "$_i" -ge 150 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	cat "$WORK/$1.connected" >&2
	grep -q '^connected' "$WORK/$1.connected"
}
# tls_hello NAME SNI: send the ClientHello naming SNI; true when the TLS
# handshake and an HTTP answer came through.
tls_hello() {
	echo "$2" >"$WORK/$1.go"
	_i=0
	while [ ! -e "$WORK/$1.result" ]; do
		[ "$_i" -ge 150 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	cat "$WORK/$1.result" >&2
	grep -q '^ok' "$WORK/$1.result"
}
tls_refused() { ! tls_hello "$@"; }
# too_big DST SPORT: the router tells the client that the client's flow
# SPORT -> DST:443 needs smaller packets (ICMP type 3 code 4 / ICMPv6 2).
too_big() {
	case "$1" in
	*:*) in_ns "$NS_ROUTER" python3 "$WORK/toobig.py" "$CLIENT6" "$1" "$2" 443 ;;
	*) in_ns "$NS_ROUTER" python3 "$WORK/toobig.py" "$CLIENT4" "$1" "$2" 443 ;;
	esac
}
# sluice_bits SPORT: sluice's bits of the conntrack mark of the client's
# TCP flow from SPORT ("none" when conntrack has no such flow).
sluice_bits() {
	_m=$(in_ns "$NS_CLIENT" conntrack -L -p tcp --orig-port-src "$1" 2>/dev/null |
		sed -n 's/.* mark=\([0-9]*\).*/\1/p' | head -n 1)
	echo "flow from port $1: mark ${_m:-none}" >&2
	[ -n "$_m" ] || { echo none; return; }
	echo $((_m & 0xc0000000))
}
# undecided BITS: neither allow nor deny (unset, or unvetted while the
# agent waits for the flow's hello).
undecided() {
	[ "$1" = 0 ] || [ "$1" = $((0xc0000000)) ]
}
# bits_still PORT BITS: the flow's bits are what they were.
bits_still() { [ "$(sluice_bits "$1")" = "$2" ]; }
# icmp_in COUNTER BEFORE: the client's stack counted COUNTER past BEFORE.
icmp_in() {
	_n=$(nstat_abs "$NS_CLIENT" "$1")
	echo "$1 $2 -> $_n" >&2
	[ "$_n" -gt "$2" ]
}
ping_refused() {
	! in_ns "$NS_CLIENT" ping -c 1 -W 2 "$1" >/dev/null 2>&1
}

cat >"$WORK/tlsflow.py" <<'PY'
import os, socket, ssl, sys, time
base, dst, sport = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind(("", sport))
s.settimeout(5)
try:
    s.connect((dst, 443))
    msg = "connected"
except OSError as e:
    msg = "connect failed: %r" % e
with open(base + ".connected", "w") as f:
    f.write(msg + "\n")
for _ in range(600):
    if os.path.exists(base + ".go"):
        break
    time.sleep(0.05)
time.sleep(0.1)
sni = open(base + ".go").read().strip()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.settimeout(4)
try:
    t = ctx.wrap_socket(s, server_hostname=sni)
    t.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = t.recv(64)
    res = "ok %r" % data[:20] if data.startswith(b"HTTP/") else "no answer %r" % data
except Exception as e:
    res = "failed: %r" % e
with open(base + ".result", "w") as f:
    f.write(res + "\n")
PY
cat >"$WORK/toobig.py" <<'PY'
import socket, struct, sys
client, server, sport, dport = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def csum(b):
    if len(b) % 2:
        b += b"\0"
    n = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while n >> 16:
        n = (n & 0xffff) + (n >> 16)
    return ~n & 0xffff

# The quoted packet: the client's segment as it left, header and 8 bytes.
tcp8 = struct.pack("!HHI", sport, dport, 1)
if ":" in client:
    inner = struct.pack("!IHBB16s16s", 6 << 28, 20, 6, 64,
                        socket.inet_pton(socket.AF_INET6, client),
                        socket.inet_pton(socket.AF_INET6, server)) + tcp8
    # type 2 "packet too big", MTU 1280; the kernel fills the checksum
    msg = struct.pack("!BBHI", 2, 0, 0, 1280) + inner
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.sendto(msg, (client, 0))
else:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 60, 1, 0x4000, 64, 6, 0,
                     socket.inet_aton(client), socket.inet_aton(server))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    # type 3 code 4 "fragmentation needed", next-hop MTU 1280
    msg = struct.pack("!BBHHH", 3, 4, 0, 0, 1280) + ip + tcp8
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.sendto(msg, (client, 0))
PY
