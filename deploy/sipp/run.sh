#!/usr/bin/env bash
# Runs a mix of idv's SIPp scenarios against a real Asterisk configured with
# deploy/asterisk: SIPp's agent phones register as agent1..3 and answer the queues, the
# callers call, and SIPp's statistics are printed for each scenario. Exits 0 only when
# every call of every caller scenario succeeded (and 1 otherwise).
#
#   deploy/sipp/run.sh [-a ASTERISK] [-p AGENT_PORT] [-r RATE] [-l LIMIT] [-m CALLS] [-d PROMPT_MS] [-t TALK_S]
#
#   -a  Asterisk's SIP address, for the callers and the agent phones (127.0.0.1:5060)
#   -p  the agent phones' SIP port on 127.0.0.1, where they register from (5061)
#   -r  new calls per second, over the whole mix (2)
#   -l  most calls at once, over the whole mix (50)
#   -m  calls to place, over the whole mix (100)
#   -d  how long callers wait for each prompt, ms (5000: the longest bundled prompt)
#   -t  how long agents talk before hanging up, s (10)
#
# The mix: 40% identified by number and verified, 25% typing a customer number, 10% opting
# out, 15% three wrong PINs, 10% hanging up during the welcome. Callers send their keys as
# SIP INFO (application/dtmf-relay). The agent phones (agents.xml) register with the
# passwords of agents.csv, which must be pjsip.conf's, and answer Asterisk's qualify
# OPTIONS and calls (agent.xml). Every SIPp answers INFO and UPDATE in a call (-aa).
# The wrong-PIN callers are a customer of their own (John Smith): idv's lockout
# ([security] verify_lockout_failures) locks him after two such calls and the rest hear
# "locked" instead, which ends the same way; the other callers are not affected.
# Needs: sipp (Debian: apt-get install sip-tester). SIPp listens on 127.0.0.1: the agent
# port and 5070-5074 (callers); media on 16000+ (callers) and 17000+ (agents).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
asterisk=127.0.0.1:5060 agentport=5061 rate=2 limit=50 calls=100 prompt=5000 talk=10
usage() { awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; }
while getopts "a:p:r:l:m:d:t:h" o; do
	case "$o" in
	a) asterisk=$OPTARG ;; p) agentport=$OPTARG ;; r) rate=$OPTARG ;; l) limit=$OPTARG ;;
	m) calls=$OPTARG ;; d) prompt=$OPTARG ;; t) talk=$OPTARG ;;
	*) usage; exit 2 ;;
	esac
done
command -v sipp >/dev/null || { echo "run.sh: sipp is missing (apt-get install sip-tester)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

# The agent phones: agents.xml registers agent1..3; agent.xml, with its talk time set,
# answers what Asterisk sends them.
sed "s/timeout=\"20000\"/timeout=\"$((talk * 1000))\"/" "$here/agent.xml" >agent.xml
sipp "$asterisk" -sf "$here/agents.xml" -oocsf agent.xml -inf "$here/agents.csv" -m 3 -l 3 -r 10 -aa \
	-i 127.0.0.1 -p "$agentport" -mp 17000 -nostdin -trace_err -trace_logs >agents.out 2>&1 &
agents=$!
# Each registration logs a line (agents.xml); 10 s covers retransmissions.
registered() { cat agents_"$agents"_logs.log 2>/dev/null | grep -c '^registered' || true; }
for _ in $(seq 100); do
	[ "$(registered)" -ge 3 ] && break
	kill -0 "$agents" 2>/dev/null || break
	sleep 0.1
done
if [ "$(registered)" -lt 3 ]; then
	echo "run.sh: the agent phones did not register with $asterisk (pjsip.conf agent1..3, agents.csv)" >&2
	cat agents.out agents_"$agents"_errors.log 2>/dev/null | grep -v 'using the out-of-call scenario' | tail -20 >&2
	exit 1
fi

share() { awk -v a="$1" -v p="$2" 'BEGIN { v = a * p / 100; if (v < 1) v = 1; printf "%d", v }'; }
# A caller's longest stay: the IVR, a queue (at most 300 s with the sample dialplan and
# routes "queue:NAME,,,,300"), the talk. SIPp gives up past the placing time plus that.
deadline=$((calls / rate + 420 + talk))
port=5070 mport=16000
names=() expected=() pids=()
for mix in "caller-ani-verified:1000:40" "caller-identifier:2000:25" "caller-opt-out:2000:10" \
	"caller-wrong-secret:1000:15" "caller-hangup:1000:10"; do
	IFS=: read -r name exten pct <<<"$mix"
	m="$(share "$calls" "$pct")"
	sipp "$asterisk" -sf "$here/$name.xml" -s "$exten" -i 127.0.0.1 -p $port -mp $mport -aa \
		-r "$(share "$rate" "$pct")" -l "$(share "$limit" "$pct")" -m "$m" -d "$prompt" \
		-nostdin -trace_screen -trace_err -trace_stat -timeout "${deadline}s" -timeout_error >/dev/null 2>&1 &
	pids+=($!) names+=("$name") expected+=("$m")
	port=$((port + 1)) mport=$((mport + 100))
done
status=0
codes=()
for p in "${pids[@]}"; do
	code=0
	wait "$p" || code=$?
	codes+=("$code")
done
kill "$agents" 2>/dev/null || true
wait "$agents" 2>/dev/null || true

for f in caller-*_screen.log; do
	[ -e "$f" ] || continue
	echo "==== ${f%%_*}"
	cat "$f"
done
for f in *_errors.log; do
	# The agent phones log each out-of-call request they take; that is no error.
	errs="$(grep -v 'using the out-of-call scenario' "$f" | grep -v '^The following events occurred:$' || true)"
	[ -n "$errs" ] && { echo "==== errors: $f"; tail -20 <<<"$errs"; }
done

# counter COLUMN PID NAME: the last value of a column of SIPp's -trace_stat file.
counter() {
	awk -F';' -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		c { v = $c } END { print (v == "" ? "?" : v) }' "$3_$2_.csv" 2>/dev/null || echo "?"
}
echo "==== summary"
for i in "${!names[@]}"; do
	ok="$(counter 'SuccessfulCall(C)' "${pids[$i]}" "${names[$i]}")"
	failed="$(counter 'FailedCall(C)' "${pids[$i]}" "${names[$i]}")"
	verdict=ok
	if [ "${codes[$i]}" != 0 ] || [ "$failed" != 0 ] || [ "$ok" != "${expected[$i]}" ]; then
		verdict=FAILED status=1
	fi
	printf '%-20s %4s calls, %4s successful, %4s failed, sipp exit %s: %s\n' \
		"${names[$i]}" "${expected[$i]}" "$ok" "$failed" "${codes[$i]}" "$verdict"
done
exit $status
