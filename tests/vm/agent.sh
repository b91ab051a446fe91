# shellcheck shell=sh
#
# Helpers for cases that run the real agent, sourced after lib.sh.
# One sluiced per namespace: each serves the namespace it runs in.

SLUICED=$REPO/agent/sluiced
SLUICECTL=$REPO/agent/sluicectl

# wait_mode NS MODE [TENTHS]: until NS's /proc/net/sluice shows MODE
# (default at most 10 s).
wait_mode() {
	_i=0
	while [ $_i -lt "${3:-100}" ]; do
		[ "$(sluice_stat "$1" mode)" = "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "$1: mode is '$(sluice_stat "$1" mode)', not '$2'" >&2
	return 1
}

# policy_init DB [SQL]: a policy made from the shipped schema and default
# policy with the plain sqlite3 CLI, plus SQL.
policy_init() {
	sqlite3 -bail "$1" <"$REPO/policy/schema.sql" &&
		sqlite3 -bail "$1" <"$REPO/policy/default.sql" &&
		sqlite3 -bail "$1" "${2:-SELECT 1;}" >/dev/null
}

# agent_start NS DB [ARGS...]: sluiced in NS; waits until NS enforces.
# Sets AGENT_PID; the agent's log is $WORK/sluiced.NS.log.
agent_start() {
	_ans=$1
	_adb=$2
	shift 2
	ip netns exec "$_ans" "$SLUICED" --db "$_adb" \
		--status-file "$WORK/status.$_ans" "$@" \
		>>"$WORK/sluiced.$_ans.log" 2>&1 &
	AGENT_PID=$!
	_pids="$_pids $AGENT_PID"
	_i=0
	while [ $_i -lt 100 ]; do
		[ "$(sluice_stat "$_ans" mode)" = enforcing ] && return 0
		if ! kill -0 "$AGENT_PID" 2>/dev/null; then
			echo "sluiced exited before it was enforcing:" >&2
			cat "$WORK/sluiced.$_ans.log" >&2
			return 1
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	wait_mode "$_ans" enforcing 1
}

# policy_mark NS [STATUS_FILE]: note how far the agent of NS has taken up
# its database (the policy generation and error of its status file,
# default $WORK/status.NS), before an edit.
# policy_taken_up NS [STATUS_FILE]: since policy_mark, the agent swapped in
# a new policy or refused the edit (at most 10 s). The state to wait for
# after an edit, instead of a sleep: its 200 ms poll, the compile and the
# re-check of established flows run late in an emulated guest on a busy
# host. (Case 31 keeps its one-second bound: that bound is what it proves.)
policy_state() {
	_ps=
	while IFS= read -r _l; do
		case $_l in
		policy_generation=* | policy_error=*) _ps="$_ps$_l;" ;;
		esac
	done <"${2:-$WORK/status.$1}"
	echo "$_ps"
}
policy_mark() {
	_policy_mark=$(policy_state "$@")
	[ -n "$_policy_mark" ]
}
policy_moved() { [ "$(policy_state "$@")" != "$_policy_mark" ]; }
policy_taken_up() {
	[ -n "${_policy_mark:-}" ] || return 1
	eventually 100 policy_moved "$@" || {
		echo "the agent did not take the edit up: $(policy_state "$@")" >&2
		return 1
	}
}

# agent_stop: SIGTERM the agent and wait; its exit status is returned.
agent_stop() {
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
}

agent_log() {
	cat "$WORK/sluiced.$1.log" >&2
}

# connects NS URL: curl gets the URL within 3 s.
connects() {
	in_ns "$1" curl -sf --max-time 3 -o /dev/null "$2"
}

# refused NS URL: curl does not get the URL within 2 s.
refused() {
	! in_ns "$1" curl -sf --max-time 2 -o /dev/null "$2"
}

# syn_retrans NS: SYNs NS's TCP sent again so far; fails if the kernel
# has no such counter (a missing counter must not read as 0).
syn_retrans() {
	# shellcheck disable=SC2016 # awk's own $1/$2
	in_ns "$1" nstat -asz TcpExtTCPSynRetrans |
		awk '$1 == "TcpExtTCPSynRetrans" { print $2; found = 1 } END { exit !found }'
}
# syn_mark NS: remember NS's count of SYNs sent again, for fast_connect
# (read before the event, since every program started in the guest costs
# a few hundred ms).
syn_mark() {
	_syn_mark=$(syn_retrans "$1")
}
# fast_connect NS URL: the connection is made, and no SYN of NS was sent
# again since syn_mark NS, so its first SYN was not lost. Counted, not
# timed: an emulated guest on a busy host can take half a second over a
# handshake that lost nothing.
fast_connect() {
	[ -n "${_syn_mark:-}" ] || return 1
	_t=$(in_ns "$1" curl -s --max-time 3 -o /dev/null \
		-w '%{time_connect}' "$2") || return 1
	_r1=$(syn_retrans "$1") || return 1
	echo "time_connect $_t, SYNs sent again since the mark: $_syn_mark -> $_r1" >&2
	[ "$_r1" -eq "$_syn_mark" ]
}

# eventually TENTHS COMMAND...: COMMAND succeeds within TENTHS/10 s.
eventually() {
	_n=$1
	shift
	_i=0
	while [ $_i -lt "$_n" ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	"$@"
}

# outage_begin crash|hang|restart NS: NS's agent ($AGENT_PID) goes away
# as a crash (SIGKILL), a hang (SIGSTOP until the watchdog notices) or
# the first half of a restart (SIGTERM); outage_end KIND NS DB brings it
# back (SIGCONT, or a new agent on DB). Each step is checked.
outage_begin() {
	case $1 in
	crash)
		kill -KILL "$AGENT_PID"
		wait "$AGENT_PID" 2>/dev/null
		check "crash: SIGKILL leaves the namespace without agent" \
			wait_mode "$2" no-agent 20 ;;
	hang)
		kill -STOP "$AGENT_PID"
		check "hang: SIGSTOP, the watchdog reports the agent hung" \
			wait_mode "$2" hung 20 ;;
	restart)
		check "restart: SIGTERM stops the agent with status 0" agent_stop
		check "restart: the namespace has no agent meanwhile" \
			wait_mode "$2" no-agent 20 ;;
	esac
}
outage_end() {
	case $1 in
	hang)
		kill -CONT "$AGENT_PID"
		check "hang: after SIGCONT the agent is enforcing again" \
			wait_mode "$2" enforcing 50 ;;
	*)
		check "$1: a new agent registers and enforces" \
			agent_start "$2" "$3" ;;
	esac
}
