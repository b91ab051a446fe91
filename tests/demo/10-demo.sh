#!/bin/sh
# The demo (make demo), run by tests/vm/guest.sh inside the VM: the
# module loaded, sluiced started as the systemd unit starts it (the
# default policy created in /var/lib/sluice, the decision log beside
# it), a small deny list added with sluicectl, a little real traffic
# between the namespaces of lib.sh, and what sluicectl then shows.
# Output is for people: headings and the commands' own output, with a
# "$ " line before each command. SLUICE_DEMO_SHORT=1: the web part only
# (allowed page, denied port), for make test.
#
#   client (sluiced) --- router --- server (HTTP on 80 and 8080,
#                                          dnsmasq for *.demo.test)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../vm/agent.sh"

SHORT=${SLUICE_DEMO_SHORT:-}
DENIED_PORT=8080

heading() { printf '\n== %s\n' "$*"; }
# ctl ARGS...: "$ sluicectl ARGS", then what it prints in the client namespace.
ctl() {
	echo "\$ sluicectl $*"
	in_ns "$NS_CLIENT" "$SLUICECTL" "$@" 2>&1
}
# web URL: what curl in the client namespace gets, in one line.
web() {
	if in_ns "$NS_CLIENT" curl -s --max-time 3 -o /dev/null "$1"; then
		echo "curl $1: allowed, page received"
	else
		echo "curl $1: refused (curl exit $?)"
	fi
}
# dns NAME: what dig in the client namespace gets from the server's
# resolver: the status, and the address when there is one.
dns() {
	in_ns "$NS_CLIENT" dig +tries=1 +time=3 +noall +comments +answer \
		"@$SERVER4" "$1" 2>&1 | awk -v n="$1" '
		/status:/ { st = $0; sub(/.*status: /, "", st); sub(/,.*/, "", st) }
		$4 == "A" { a = " (" $5 ")" }
		END { print "dig @'"$SERVER4"' " n ": " (st ? st : "no answer") a }'
}

heading "sluice demo: kernel $(uname -r), namespaces client, router, server"
topo_up || { tap_not_ok "the namespaces are up"; tap_done; }
mkdir -p "$WORK/www" /run/sluice /var/lib/sluice
echo "hello from the server namespace" >"$WORK/www/index.html"
for p in 80 "$DENIED_PORT"; do
	bg in_ns "$NS_SERVER" busybox httpd -f -p "$p" -h "$WORK/www"
	wait_listen "$NS_SERVER" "$p"
done
if [ -z "$SHORT" ]; then
	bg in_ns "$NS_SERVER" dnsmasq --keep-in-foreground --no-resolv \
		--no-hosts --bind-interfaces --listen-address="$SERVER4" \
		--pid-file= --user=root --log-facility=/dev/null \
		--address=/demo.test/"$SERVER4"
fi

heading "load the module and start the agent"
# Netfilter's hook points switched on once for the whole boot (lib.sh
# says why: qemu's emulation once hung on kernel text just patched).
netfilter_keys_on
echo "\$ insmod kmod/sluice.ko"
sluice_load || { tap_not_ok "sluice.ko loads"; tap_done; }
echo "\$ sluiced --db /var/lib/sluice/policy.db --log-db /var/lib/sluice/decisions.db &"
if ! agent_start "$NS_CLIENT" /var/lib/sluice/policy.db \
	--log-db /var/lib/sluice/decisions.db \
	--status-file /run/sluice/status; then
	agent_log "$NS_CLIENT" 2>&1
	tap_not_ok "sluiced enforcing"
	tap_done
fi
tap_ok "sluiced is enforcing (pid $AGENT_PID)"

heading "a small deny list"
policy_mark "$NS_CLIENT" /run/sluice/status
ctl deny --proto tcp --port "$DENIED_PORT" --comment "demo: a denied port"
if [ -z "$SHORT" ]; then
	ctl deny --domain ads.demo.test --comment "demo: a denied name"
	printf '0.0.0.0 tracker.demo.test\n0.0.0.0 *.metrics.demo.test\n' >"$WORK/blocklist.txt"
	echo "\$ cat blocklist.txt"
	cat "$WORK/blocklist.txt"
	policy_mark "$NS_CLIENT" /run/sluice/status
	(cd "$WORK" && ctl import --list blocklist blocklist.txt)
fi
ctl rules
# The agent takes the edits up within a second; on a busy emulated guest
# later, so wait for its status file to say so rather than sleep.
policy_taken_up "$NS_CLIENT" /run/sluice/status || tap_not_ok "the agent took the deny list up"

heading "traffic from the client namespace"
web "http://$SERVER4/"
web "http://$SERVER4:$DENIED_PORT/"
if [ -z "$SHORT" ]; then
	dns www.demo.test
	dns ads.demo.test
	dns tracker.demo.test
fi
# The log is written in batches off the hot path.
sleep 2

heading "sluicectl status"
ctl status
heading "sluicectl log"
ctl log
heading "why was port $DENIED_PORT refused?"
ctl explain tcp "$SERVER4:$DENIED_PORT"
if [ -z "$SHORT" ]; then
	heading "and the denied name?"
	ctl explain --name ads.demo.test udp "$SERVER4:53"
	ctl log --denied --json --limit 3
fi

heading "the end"
agent_stop
echo "sluiced stopped (exit $?)"
sluice_unload && echo "module removed"
tap_ok "the demo ran to its end"
tap_done
