#!/bin/sh
# The name cache learns an address's names only from an answer to a query
# the agent saw leave, and a flood of answers cannot evict what others
# taught it: a lying resolver (tests/vm/liar_dns.py) answers with another
# DNS id, with another question, and with a burst of addresses aimed at
# one slot of the cache; with settings.trusted_resolvers set, a resolver
# not listed teaches nothing even with a true answer. Each refusal has a
# control beside it: the names a true resolver taught still open the way.
#
#   client (sluiced) --- router (dnsmasq: ok.test is .5) --- server
#     (dnsmasq on .2: ok.test is .2, fresh.test is .6; the liar on .3;
#      HTTP on every address)
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/vm/agent.sh
. "$(dirname "$0")/../agent.sh"

LIAR=10.91.2.3
# agent/verdict.c NAMECACHE_SLOTS: the liar aims its flood at one slot.
CACHE_SLOTS=8192

resolves_to() {
	[ "$(in_ns "$NS_CLIENT" dig +short +tries=1 +time=3 "@$1" "$2")" = "$3" ]
}
# ask RESOLVER NAME: a query whose answer may never come (the liar's).
ask() {
	in_ns "$NS_CLIENT" dig +tries=1 +time=2 "@$1" "$2" >&2 || true
}

topo_up
dmesg_mark
for _a in 3 4 5 6; do
	ip -n "$NS_SERVER" addr add 10.91.2.$_a/24 dev veth3
done
http_server_start "$NS_SERVER" 8080
bg in_ns "$NS_SERVER" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--bind-interfaces --listen-address="$SERVER4" --pid-file= --user=root \
	--log-facility=- --address=/ok.test/"$SERVER4" \
	--address=/fresh.test/10.91.2.6
bg in_ns "$NS_ROUTER" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--bind-interfaces --listen-address="$ROUTER4_C" --pid-file= --user=root \
	--log-facility=- --address=/ok.test/10.91.2.5
bg in_ns "$NS_SERVER" python3 "$REPO/tests/vm/liar_dns.py" "$LIAR" \
	"$SERVER4" ok.test "$CACHE_SLOTS"
# liar_up: the liar listens (it binds before aiming its flood).
liar_up() { ss -N "$NS_SERVER" -Hlun "src $LIAR:53" | grep -q .; }

eventually 150 liar_up
setup "sluice.ko loads" sluice_load
# Nothing but DNS and the names ok.test and fresh.test is allowed: an
# address gets through only under a name the cache learnt for it.
policy_init "$WORK/policy.db" "
UPDATE settings SET value = 'deny' WHERE key = 'default_action';
INSERT INTO rules(action, proto, dst_port) VALUES ('allow', 'udp', '53');
INSERT INTO rules(action, domain) VALUES ('allow', 'ok.test');
INSERT INTO rules(action, domain) VALUES ('allow', 'fresh.test');"
setup "sluiced enforcing" agent_start "$NS_CLIENT" "$WORK/policy.db"

check "ok.test resolves through the true resolver" \
	eventually 30 resolves_to "$SERVER4" ok.test "$SERVER4"
check "TCP to the address ok.test was resolved to works" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"
check "TCP to an address no answer named is refused" \
	refused "$NS_CLIENT" "http://10.91.2.5:8080/"

ask "$LIAR" ok.test
check "an answer with another DNS id teaches nothing: its address is refused" \
	refused "$NS_CLIENT" "http://$LIAR:8080/"
ask "$LIAR" other.test
check "an answer to another question teaches nothing: its address is refused" \
	refused "$NS_CLIENT" "http://10.91.2.4:8080/"
check "the liar answers a flood of addresses to a query of its own" \
	sh -c "[ \$(ip netns exec $NS_CLIENT dig +short +tries=1 +time=3 @$LIAR flood.test | wc -l) -ge 8 ]"
check "after the flood, ok.test's address still works" \
	connects "$NS_CLIENT" "http://$SERVER4:8080/"

policy_mark "$NS_CLIENT"
sqlite3 "$WORK/policy.db" "INSERT INTO settings VALUES ('trusted_resolvers', '$SERVER4');"
setup "the agent took the edit up" policy_taken_up "$NS_CLIENT"
check "with trusted_resolvers set, another resolver's true answer is taken by the client" \
	resolves_to "$ROUTER4_C" ok.test 10.91.2.5
check "but teaches nothing: its address is refused" \
	refused "$NS_CLIENT" "http://10.91.2.5:8080/"
check "a trusted resolver's answer still teaches" \
	resolves_to "$SERVER4" fresh.test 10.91.2.6
check "so TCP to the address fresh.test was resolved to works" \
	connects "$NS_CLIENT" "http://10.91.2.6:8080/"
check "SIGTERM stops the agent with status 0" agent_stop
check "rmmod sluice" sluice_unload
check "kernel log clean" dmesg_clean
agent_log "$NS_CLIENT"
tap_done
