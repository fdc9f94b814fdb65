#!/usr/bin/env bash
# Back-to-back runs of ./run.sh's default job (the embedded demo: 2 trainer replicas, data parallel), each from an empty
# job store, optionally with busy loops pinned to CPU cores; per run: accuracy, duration, generation, members, the count of
# exceptions in the trainer replicas' console logs, and the largest heartbeat gap. docs/reliability.md.
#
#   eng/chaos/default-job.sh [--runs 3] [--hog-cores 0] [--timeout 3600] [-- extra ./run.sh arguments]
#
# Each run: start the hogs (taskset -c <core> busy loop, one per listed core), start ./run.sh in the background, wait for
# the demo's report, read the job (front door API, Redis), delete the job through the API so the next run starts from an
# empty store (the demo only runs then), SIGTERM the app, stop the hogs, then read the trainer replicas' console logs that
# the AppHost kept (.ft/logs/<run>/trainer-*.log, ConsoleLogArchive). Output under .ft/default-job/<time>/.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=3 HOG_CORES=0 TIMEOUT_S=3600 EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --hog-cores) HOG_CORES=$2; shift 2 ;;
    --timeout) TIMEOUT_S=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) echo "default-job: unknown option $1" >&2; exit 2 ;;
  esac
done
STATE=$REPO/.ft/default-job/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$STATE"
RESULTS=$STATE/results.md
log() { printf '%s default-job: %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$STATE/log" >&2; }
now() { date +%s; }
envof() { { tr '\0' '\n' < "/proc/$1/environ"; } 2>/dev/null | sed -n "s/^$2=//p" | head -1 || true; }
descendants() { local k; for k in $(pgrep -P "$1" || true); do echo "$k"; descendants "$k"; done; }

HOGS=()
stop_hogs() { local p; for p in "${HOGS[@]}"; do kill "$p" 2>/dev/null || true; done; HOGS=(); }
APP=""
stop_app() {
  [ -n "$APP" ] || return 0
  local -a tree; mapfile -t tree < <(descendants "$APP"; echo "$APP")
  local p host=""   # SIGTERM to the AppHost itself (`dotnet run` need not forward it); it stops every resource
  for p in "${tree[@]}"; do case "$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)" in *"$REPO/AppHost/bin/"*) host=$p ;; esac; done
  kill -TERM "${host:-$APP}" 2>/dev/null || true
  local deadline=$(( $(now) + 300 )) alive
  while [ "$(now)" -lt "$deadline" ]; do
    alive=0; for p in "${tree[@]}"; do [ -d "/proc/$p" ] && alive=1; done
    [ $alive = 0 ] && break
    sleep 1
  done
  APP=""
}
trap 'stop_hogs; stop_app' EXIT

printf '| run | accuracy before → after | duration (submit → report) | generation | members | exceptions in trainer logs (native) | largest heartbeat gap | load (1-min avg at start → end) | hogs |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n' > "$RESULTS"

for run in $(seq 1 "$RUNS"); do
  for core in ${HOG_CORES//,/ }; do taskset -c "$core" sh -c 'while :; do :; done' & HOGS+=($!); done
  load0=$(cut -d' ' -f1 /proc/loadavg)
  start=$(now)
  out=$STATE/run-$run.log
  (cd "$REPO" && exec setsid ./run.sh "${EXTRA[@]}" > "$out" 2>&1 < /dev/null) &
  APP=$!
  log "run $run: ./run.sh ${EXTRA[*]} (pid $APP), hogs on cores $HOG_CORES (pids ${HOGS[*]}), load $load0"
  deadline=$(( $(now) + TIMEOUT_S ))
  until grep -q "demo: job .* ended\|exact-match accuracy" "$out"; do
    [ "$(now)" -lt "$deadline" ] || { log "run $run: no report within ${TIMEOUT_S}s"; break; }
    grep -q "demo: .*the job store has jobs already" "$out" && { log "run $run: the job store was not empty"; break; }
    sleep 2
  done
  wall=$(( $(now) - start ))
  sleep 3   # the report's last lines (accuracy follows the table)
  submitted=$(sed -n 's/.*demo: submitted the default job \([^:]*\):.*/\1/p' "$out" | head -1)
  accuracy=$(grep -m1 -o 'exact-match accuracy.*' "$out" | sed 's/.*: //' || true)

  # the app's processes (under DCP or not): a trainer (Redis address and password), the front door (its address)
  trainer="" dataset=""
  for p in $(pgrep -f "$REPO/services/" || true); do
    [ -n "$(envof "$p" ConnectionStrings__redis)" ] || continue
    case "$( { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null)" in
      *" build "*|*MSBuild*) ;;
      *Trainer.Worker*) trainer=$p ;;
      *Dataset.Api*) dataset=$p ;;
    esac
  done
  cs=$(envof "$trainer" ConnectionStrings__redis); addr=${cs%%,*}; pw=$(sed -n 's/.*password=\([^,]*\).*/\1/p' <<< "$cs")
  rcli() { redis-cli -h "${addr%:*}" -p "${addr##*:}" -a "$pw" --no-auth-warning "$@"; }
  endpoint=$(envof "$dataset" ASPNETCORE_URLS | tr ';' '\n' | grep '^http://' | head -1 || true)
  generation=$(rcli HGET "ft:job:$submitted" generation); members=$(rcli HGET "ft:job:$submitted" members)
  created=$(rcli HGET "ft:job:$submitted" created); finished=$(rcli HGET "ft:job:$submitted" finished)
  gap=0; for key in $(rcli --scan --pattern 'ft:replica:*'); do g=$(rcli HGET "$key" max_gap_ms); [ -n "$g" ] && [ "$g" -gt "$gap" ] && gap=$g; done
  duration=$(( $(date -d "$finished" +%s 2>/dev/null || now) - $(date -d "$created" +%s 2>/dev/null || now) ))
  load1=$(cut -d' ' -f1 /proc/loadavg)
  # an empty job store for the next run (the demo submits only then)
  code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$endpoint/api/jobs/$submitted" || true)
  log "run $run: DELETE /api/jobs/$submitted → $code"
  stop_app
  stop_hogs
  # the trainer replicas' console logs, as the AppHost kept them (complete once the app has stopped)
  logs=$(readlink -f "$REPO/.ft/logs/latest" || true)
  trainer_logs=$(ls "$logs"/trainer-*.log 2>/dev/null | grep -v -- '-rebuilder-' || true)   # not Aspire's rebuilder resources
  cat $trainer_logs /dev/null > "$STATE/trainer-console-$run.txt" 2>/dev/null || true
  files=$(echo $trainer_logs | wc -w)
  exceptions=$(grep -c 'Exception' "$STATE/trainer-console-$run.txt" || true)
  native=$(grep -c 'ExternalException\|SEHException\|Scalar\.h' "$STATE/trainer-console-$run.txt" || true)
  lines=$(wc -l < "$STATE/trainer-console-$run.txt")
  printf '| %s | %s | %s s (created → finished), %s s wall (./run.sh → report) | %s | %s | %s (%s native) in %s lines of %s trainer logs | %s ms | %s → %s | %s |\n' \
    "$run" "${accuracy:-none}" "$duration" "$wall" "$generation" "$members" "$exceptions" "$native" "$lines" "$files" "$gap" "$load0" "$load1" "busy loop on core(s) $HOG_CORES" >> "$RESULTS"
  log "run $run: job $submitted accuracy ${accuracy:-none}, generation $generation, members $members, exceptions $exceptions ($native native) in $files trainer logs, gap ${gap} ms"
done
cat "$RESULTS"
