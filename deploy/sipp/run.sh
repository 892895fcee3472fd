#!/usr/bin/env bash
# Runs a mix of idv's SIPp scenarios against a real Asterisk configured with
# deploy/asterisk, with SIPp's agent phones answering the queues, and prints SIPp's
# statistics for each scenario.
#
#   deploy/sipp/run.sh [-a ASTERISK] [-r RATE] [-l LIMIT] [-m CALLS] [-d PROMPT_MS] [-t TALK_S]
#
#   -a  Asterisk's SIP address (127.0.0.1:5060)
#   -r  new calls per second, over the whole mix (2)
#   -l  most calls at once, over the whole mix (50)
#   -m  calls to place, over the whole mix (100)
#   -d  how long callers wait for each prompt, ms (5000: the longest bundled prompt)
#   -t  how long agents talk before hanging up, s (10)
#
# The mix: 40% identified by number and verified, 25% typing a customer number, 10% opting
# out, 15% three wrong PINs, 10% hanging up during the welcome. DTMF is RFC 2833, played
# from the pcaps the sip-tester package installs in /usr/share/sip-tester.
# Needs: sipp (Debian: apt-get install sip-tester). SIPp listens on 5061 (agents) and
# 5070-5074 (callers); media on 16000+.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
asterisk=127.0.0.1:5060 rate=2 limit=50 calls=100 prompt=5000 talk=10
while getopts "a:r:l:m:d:t:h" o; do
	case "$o" in
	a) asterisk=$OPTARG ;; r) rate=$OPTARG ;; l) limit=$OPTARG ;; m) calls=$OPTARG ;;
	d) prompt=$OPTARG ;; t) talk=$OPTARG ;;
	*) sed -n '2,20p' "$0"; exit 2 ;;
	esac
done
command -v sipp >/dev/null || { echo "run.sh: sipp is missing (apt-get install sip-tester)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"

# agent_xml TALK_MS: the agent scenario with its talk time set.
agent_xml() { sed "s/timeout=\"20000\"/timeout=\"$1\"/" "$here/agent.xml" > agent.xml; }
agent_xml $((talk * 1000))
sipp -sf agent.xml -i 127.0.0.1 -p 5061 -mp 17000 -nostdin -trace_screen -trace_err >/dev/null 2>&1 &
agent=$!

share() { awk -v a="$1" -v p="$2" 'BEGIN { v = a * p / 100; if (v < 1) v = 1; printf "%d", v }'; }
port=5070 mport=16000
pids=()
for mix in "caller-ani-verified:1000:40" "caller-identifier:2000:25" "caller-opt-out:2000:10" \
	"caller-wrong-secret:1000:15" "caller-hangup:1000:10"; do
	IFS=: read -r name exten pct <<<"$mix"
	sipp "$asterisk" -sf "$here/$name.xml" -s "$exten" -i 127.0.0.1 -p $port -mp $mport \
		-r "$(share "$rate" "$pct")" -l "$(share "$limit" "$pct")" -m "$(share "$calls" "$pct")" -d "$prompt" \
		-nostdin -trace_screen -trace_err -timeout $((calls / rate + 300))s >/dev/null 2>&1 &
	pids+=($!)
	port=$((port + 1)) mport=$((mport + 100))
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
kill "$agent" 2>/dev/null || true
for f in *_screen.log; do
	echo "==== ${f%%_*}"
	cat "$f"
done
for f in *_errors.log; do
	[ -s "$f" ] && { echo "==== errors: $f"; tail -20 "$f"; }
done
exit $status
