#!/usr/bin/env bash
# Cold start and memory of a whole AppHost run: starts the given command in its own process group, then reports
#   dashboard_s  seconds until the console prints a line matching $DASH_RE and that URL answers HTTP,
#   step_s       seconds until the console prints a line matching $STEP_RE (the demo job's first training step),
#   pss_mib      the sum of Pss over /proc/<pid>/smaps_rollup of the whole process tree, sampled at first step: the
#                command's descendants plus, for a real Aspire AppHost, the detached DCP (`dcp … --monitor <apphost pid>`)
#                and everything it started (dashboard, redis-server, `dotnet run` wrappers, services).
# Then stops the tree (SIGTERM to the group, SIGKILL after 30 s). Usage:
#   DASH_RE='…' STEP_RE='…' eng/bench/apphost-startup.sh <command…>
set -uo pipefail
log="$(mktemp)"
t0=$(date +%s.%N)
setsid "$@" >"$log" 2>&1 &
pid=$!
since() { echo "$(date +%s.%N) - $t0" | bc; }
tree() { local p=$1; echo "$p"; for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do tree "$c"; done; }
roots() { echo "$pid"; pgrep -f -- "--monitor $pid( |$)" || true; }
all() { for r in $(roots); do tree "$r"; done | sort -u; }
pss() { local sum=0; for p in $(all); do k=$(awk '/^Pss:/{print $2}' /proc/"$p"/smaps_rollup 2>/dev/null); sum=$((sum + ${k:-0})); done; echo $((sum / 1024)); }
dash=""; step=""; url=""
for _ in $(seq 1 6000); do
  kill -0 "$pid" 2>/dev/null || { echo "exited early"; tail -40 "$log"; break; }
  if [ -z "$dash" ]; then
    url=$(grep -oE "$DASH_RE" "$log" | head -1 | grep -oE 'https?://[^ ]+' | head -1)
    if [ -n "$url" ] && curl -s -o /dev/null -m 2 "$url"; then dash=$(since); echo "dashboard_s=$dash ($url)"; fi
  fi
  if [ -z "$step" ] && grep -qE "$STEP_RE" "$log"; then step=$(since); echo "step_s=$step"; echo "pss_mib=$(pss) processes=$(all | wc -l)"; break; fi
  sleep 0.2
done
echo "load: $(uptime)"
kill -TERM -- -"$pid" 2>/dev/null
for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -KILL -- -"$pid" 2>/dev/null
cp "$log" /tmp/apphost-startup-last.log; rm -f "$log"
