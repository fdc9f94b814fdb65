#!/usr/bin/env bash
# Chaos against the running app (./run.sh or `dotnet run --project AppHost`, started from this checkout; either orchestrator,
# ours or Aspire's DCP). It talks to the app only through the front door's HTTP API, Redis (redis-cli, with the password
# read from a trainer's environment) and signals to PIDs it finds under the app's process tree. docs/reliability.md.
#
#   eng/chaos/chaos.sh [--kills 20] [--steps 300] [--save-steps 6] [--scenarios reference,kills,redis,app] [--orchestrator-wait 45] [--hogs N]
#
# reference  one uninterrupted data-parallel job (K=2, deterministic, dropout 0): the adapter every other job must equal
# kills      SIGKILL a random trainer replica serving the job, --kills times, each after the job has progressed again
# redis      restart Redis (SIGTERM; AOF on) once mid-job
# app        SIGTERM the whole app (the AppHost) mid-job and start it again with the same command line and environment
# After a kill the script waits --orchestrator-wait seconds for the orchestrator to restart the replica (same
# service.instance.id); DCP does not restart processes, so under DCP (or when nothing came back) it starts an identical
# process itself: same command line, working directory and environment (read from /proc/<pid> before the kill).
# Every job must end `done`, and its adapter must equal the reference's (bit for bit, or within 1e-6).
# --hogs N runs N busy loops (one per core = full CPU load) for the whole run; the table's last column is the largest
# heartbeat gap any trainer replica saw (max_gap_ms of ft:replica:*; a lapse past 3 heartbeats would count a member lost).
# Output: a log and results.md under .ft/chaos/<time>/; exit 1 when a job was lost or an adapter differs.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
KILLS=20 STEPS=300 SAVE_STEPS=6 SCENARIOS=reference,kills,redis,app ORCH_WAIT=45 TIMEOUT_S=1800 HOGS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --kills) KILLS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --save-steps) SAVE_STEPS=$2; shift 2 ;;
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --orchestrator-wait) ORCH_WAIT=$2; shift 2 ;;
    --job-timeout) TIMEOUT_S=$2; shift 2 ;;
    --hogs) HOGS=$2; shift 2 ;;
    -h|--help) sed -n 2,21p "$0"; exit 0 ;;
    *) echo "chaos: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
STATE=$REPO/.ft/chaos/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$STATE/procs"
BODY=$(jq -cn --argjson steps "$STEPS" --argjson save "$SAVE_STEPS" '{preset: "nano", export: false,
  training: {max_steps: $steps, parallelism: 2, gradient_accumulation_steps: 2, deterministic: true, save_steps: $save, logging_steps: 1},
  lora: {dropout: 0}, eval: {max_examples: 4, max_new_tokens: 16}}')

log() { printf '%s chaos: %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$STATE/chaos.log" >&2; }
die() { log "FAILED: $*"; exit 1; }
now() { date +%s; }

# ---- the app's processes ---------------------------------------------------------------------------------------------
cmdline() { tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null || true; }
envof() { { grep -z -m1 "^$2=" "/proc/$1/environ" 2>/dev/null || true; } | tr -d '\0' | sed "s/^$2=//"; }
first() { echo "${1:-}"; }
descendants() { local k; for k in $(pgrep -P "$1" || true); do echo "$k"; descendants "$k"; done; }

# The AppHost process started from this checkout (the app), and what launched it (`dotnet run --project AppHost`) if so.
find_app() {
  APP_PID="" LAUNCHER_PID=""
  local pid parent
  for pid in $(pgrep -f "$REPO/AppHost/bin/" || true); do
    case "$(cmdline "$pid")" in *"dotnet build"*|*MSBuild*) continue ;; esac
    parent=$(ps -o ppid= -p "$pid" | tr -d ' ')
    case "$(cmdline "$parent")" in *"$REPO/AppHost/bin/"*) continue ;; esac   # the outermost one
    APP_PID=$pid
  done
  [ -n "$APP_PID" ] || return 1
  parent=$(ps -o ppid= -p "$APP_PID" | tr -d ' ')
  case "$(cmdline "$parent")" in *dotnet*run*AppHost*) LAUNCHER_PID=$parent ;; *) LAUNCHER_PID=$APP_PID ;; esac
}

# Processes of the app (its tree, plus replicas this script started) whose command line matches $1, innermost only
# (under DCP a `dotnet run` wrapper and the service itself both match).
app_procs() {
  local pattern=$1 pid all
  # DCP runs detached from the AppHost (its controller's parent is init), so the services are found by their paths too
  all=$( { [ -n "$APP_PID" ] && descendants "$APP_PID"; pgrep -f "$REPO/services/" || true; cat "$STATE/own.pids" 2>/dev/null || true; } | sort -u)
  for pid in $all; do
    [ -d "/proc/$pid" ] || continue
    case "$(cmdline "$pid")" in *" build "*|*MSBuild*|*/csc\ *) continue ;; *"$pattern"*) ;; *) continue ;; esac   # not the AppHost's builds
    local child inner=0
    for child in $(pgrep -P "$pid" || true); do case "$(cmdline "$child")" in *"$pattern"*) inner=1 ;; esac; done
    [ $inner = 0 ] && echo "$pid"
  done
}
instance_of() { envof "$1" OTEL_RESOURCE_ATTRIBUTES | sed -n 's/.*service\.instance\.id=\([^,]*\).*/\1/p'; }
under_dcp() {   # a parent or grandparent is DCP (a project runs as DCP → `dotnet run` → the service)
  local p=$1 i
  for i in 1 2; do
    p=$(ps -o ppid= -p "$p" 2>/dev/null | tr -d ' '); { [ -n "$p" ] && [ "$p" != 0 ]; } || return 1
    case "$(cmdline "$p")" in */dcp\ *|*dcp\ run-controllers*) return 0 ;; esac
  done
  return 1
}

# Saves what it takes to start an identical process: command line, environment, working directory.
snapshot() { cp "/proc/$1/cmdline" "$2.cmd"; cp "/proc/$1/environ" "$2.env"; readlink "/proc/$1/cwd" > "$2.cwd"; }
relaunch() {   # $1 snapshot prefix, $2 log file → pid
  local -a cmd env
  mapfile -d '' cmd < "$1.cmd"; mapfile -d '' env < "$1.env"
  (cd "$(cat "$1.cwd")" && exec env -i "${env[@]}" setsid "${cmd[@]}" >> "$2" 2>&1 < /dev/null) &
  echo $!
}

discover() {   # the app, Redis (address and password from a trainer's environment) and the front door
  local deadline=$(( $(now) + ${1:-60} )) trainer=""
  while [ "$(now)" -lt "$deadline" ]; do
    if find_app; then
      trainer=$(first $(app_procs Trainer.Worker))
      DATASET=$(first $(app_procs Dataset.Api))
      [ -n "$trainer" ] && [ -n "$DATASET" ] && [ -n "$(envof "$trainer" ConnectionStrings__redis)" ] && break
    fi
    sleep 1
  done
  [ -n "$trainer" ] && [ -n "$DATASET" ] || die "no app started from $REPO is running (start it with ./run.sh --no-demo)"
  local cs; cs=$(envof "$trainer" ConnectionStrings__redis)
  REDIS_ADDR=${cs%%,*}; REDIS_HOST=${REDIS_ADDR%:*}; REDIS_PORT=${REDIS_ADDR##*:}
  REDIS_PW=$(sed -n 's/.*password=\([^,]*\).*/\1/p' <<< "$cs")
  ENDPOINT=${FT_ENDPOINT:-$(envof "$DATASET" ASPNETCORE_URLS | tr ';' '\n' | grep -m1 '^http://' | sed 's#//[*+]#//localhost#; s#//0\.0\.0\.0#//localhost#')}
  DATA_ROOT=$(envof "$trainer" FineTune__DataRoot)
  log "app $APP_PID (launched by $LAUNCHER_PID), front door $ENDPOINT, Redis $REDIS_ADDR, trainers $(app_procs Trainer.Worker | tr '\n' ' ')"
}
rcli() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -a "$REDIS_PW" --no-auth-warning "$@"; }

# ---- jobs ------------------------------------------------------------------------------------------------------------
api() { curl -fsS --max-time 20 "$@"; }
submit() { api -H 'Content-Type: application/json' -d "$BODY" "$ENDPOINT/api/jobs/demo" | jq -r .id; }
status() { api "$ENDPOINT/api/jobs/$1" 2>/dev/null | jq -r '.status // empty' 2>/dev/null || true; }
field() { rcli HGET "ft:job:$1" "$2" 2>/dev/null || true; }
step() { rcli --raw XREVRANGE "ft:job:$1:metrics" + - COUNT 1 2>/dev/null | awk 'prev=="step"{print; exit} {prev=$0}' || true; }
final() { case "$1" in done|failed|cancelled) return 0 ;; *) return 1 ;; esac; }

wait_step() {   # until job $1 has trained past step $2 (or ended)
  local deadline=$(( $(now) + TIMEOUT_S )) s
  while [ "$(now)" -lt "$deadline" ]; do
    s=$(step "$1"); [ -n "$s" ] && [ "${s%.*}" -ge "$2" ] && return 0
    final "$(status "$1")" && return 0
    sleep 0.5
  done
  die "job $1 did not reach step $2 within ${TIMEOUT_S}s"
}
wait_final() {
  local deadline=$(( $(now) + TIMEOUT_S )) s=""
  while [ "$(now)" -lt "$deadline" ]; do
    s=$(status "$1"); final "$s" && { echo "$s"; return 0; }
    sleep 2
  done
  echo "${s:-unknown}"
}
adapter() { api -o "$2" "$ENDPOINT/api/jobs/$1/artifacts/train/adapter/adapter_model.safetensors"; }

# ---- faults ----------------------------------------------------------------------------------------------------------
ensure_back() {   # $1 instance id, $2 snapshot prefix, $3 1 when nothing will restart it (DCP, or a process this script started), else wait for the orchestrator first
  local deadline=$(( $(now) + ( $3 == 1 ? 0 : ORCH_WAIT ) )) pid
  while [ "$(now)" -lt "$deadline" ]; do
    for pid in $(app_procs Trainer.Worker); do
      [ "$(instance_of "$pid")" = "$1" ] && { log "  $1 restarted by the orchestrator (pid $pid)"; return 0; }
    done
    sleep 1
  done
  pid=$(relaunch "$2" "$STATE/trainer-$1.log")
  echo "$pid" >> "$STATE/own.pids"
  log "  $1 restarted by this script (pid $pid, same command line, directory and environment)"
}

kill_replica() {   # SIGKILL one trainer replica serving job $1, chosen at random; returns 1 when none serves it now
  local -a serving=()
  local pid inst
  for pid in $(app_procs Trainer.Worker); do
    inst=$(instance_of "$pid")
    [ -n "$inst" ] && [ "$(rcli HGET "ft:replica:$inst" job)" = "$1" ] && serving+=("$pid")
  done
  [ ${#serving[@]} -gt 0 ] || return 1
  pid=${serving[RANDOM % ${#serving[@]}]}
  inst=$(instance_of "$pid")
  local role; role=$(rcli HGET "ft:replica:$inst" role)
  local dcp=0; { under_dcp "$pid" || grep -qx "$pid" "$STATE/own.pids" 2>/dev/null; } && dcp=1   # nothing will restart it
  snapshot "$pid" "$STATE/procs/$inst"
  kill -KILL "$pid"
  KILLED=$((KILLED + 1))
  log "kill $KILLED/$KILLS: SIGKILL $inst (pid $pid, $role) at step $(step "$1")"
  ensure_back "$inst" "$STATE/procs/$inst" $dcp
}

# redis-server replaces its /proc cmdline with its title ("redis-server 127.0.0.1:6379"), so the command line to start an
# identical server is rebuilt from CONFIG GET (same port, bind, data directory, password, persistence files).
redis_snapshot() {   # $1 pid, $2 snapshot prefix
  # the program by name: Debian's redis-server is a link to redis-check-rdb, which acts on the name it is started by
  local -a args=("$(command -v redis-server || readlink "/proc/$1/exe")")
  local name value
  for name in port bind dir requirepass appendonly appendfsync save dbfilename appendfilename appenddirname protected-mode; do
    value=$(rcli CONFIG GET "$name" | sed -n 2p) || continue
    [ "$(rcli CONFIG GET "$name" | wc -l)" -ge 2 ] && args+=("--$name" "$value")
  done
  printf '%s\0' "${args[@]}" > "$2.cmd"
  env -0 > "$2.env"
  readlink "/proc/$1/cwd" > "$2.cwd"
}

restart_redis() {
  local pid="" p
  for p in $(pgrep redis-server || true); do
    case "$(cmdline "$p")" in *"--port $REDIS_PORT"*|*":$REDIS_PORT"*) pid=$p ;; esac
  done
  [ -n "$pid" ] || die "no redis-server process on port $REDIS_PORT (a container? this script restarts local processes only)"
  local dcp=0; under_dcp "$pid" && dcp=1
  redis_snapshot "$pid" "$STATE/procs/redis"
  kill -TERM "$pid"
  local deadline=$(( $(now) + 60 ))
  while [ -d "/proc/$pid" ] && [ "$(now)" -lt "$deadline" ]; do sleep 0.2; done
  log "Redis (pid $pid) stopped with SIGTERM (AOF flushed)"
  deadline=$(( $(now) + ( dcp == 1 ? 0 : 15 ) ))
  while [ "$(now)" -lt "$deadline" ]; do rcli PING > /dev/null 2>&1 && { log "  Redis restarted by the orchestrator"; return 0; }; sleep 0.5; done
  pid=$(relaunch "$STATE/procs/redis" "$STATE/redis.log")
  echo "$pid" >> "$STATE/own.pids"
  deadline=$(( $(now) + 30 ))
  until rcli PING > /dev/null 2>&1; do [ "$(now)" -lt "$deadline" ] || die "Redis did not come back"; sleep 0.2; done
  log "  Redis restarted by this script (pid $pid)"
}

restart_app() {
  local launcher=$LAUNCHER_PID app=$APP_PID
  snapshot "$launcher" "$STATE/procs/app"
  local -a tree; mapfile -t tree < <(descendants "$app"; echo "$app"; [ "$launcher" != "$app" ] && echo "$launcher"; pgrep -f "$REPO/services/" || true)
  kill -TERM "$app"
  local own; for own in $(cat "$STATE/own.pids" 2>/dev/null || true); do kill -TERM "$own" 2>/dev/null || true; done
  : > "$STATE/own.pids"
  log "SIGTERM to the app (pid $app) and to the replicas this script started"
  local deadline=$(( $(now) + 300 )) p alive
  while :; do
    alive=0; for p in "${tree[@]}"; do [ -d "/proc/$p" ] && alive=1; done
    [ $alive = 0 ] && break
    [ "$(now)" -lt "$deadline" ] || die "the app's processes did not exit within 300 s of SIGTERM"
    sleep 0.5
  done
  log "  every process of the app exited; starting it again: $(tr '\0' ' ' < "$STATE/procs/app.cmd")"
  relaunch "$STATE/procs/app" "$STATE/app.log" > /dev/null
  APP_PID=""
  discover 600
}

largest_gap() {   # the largest max_gap_ms over the live trainer replicas' heartbeats
  local key max=0 g
  for key in $(rcli --scan --pattern 'ft:replica:*' 2>/dev/null); do
    g=$(rcli HGET "$key" max_gap_ms 2>/dev/null); [ -n "$g" ] && [ "$g" -gt "$max" ] && max=$g
  done
  echo "$max"
}

HOG_PIDS=()
stop_hogs() { local p; for p in "${HOG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_hogs EXIT
for _ in $(seq 1 "$HOGS"); do sh -c 'while :; do :; done' & HOG_PIDS+=($!); done

# ---- scenarios -------------------------------------------------------------------------------------------------------
RESULTS=$STATE/results.md
printf '| scenario | job | kills survived | Redis restarts | app restarts | status | generation, members | adapter vs uninterrupted | seconds | largest heartbeat gap |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n' > "$RESULTS"
LOST=0 DIFFERENT=0 KILLED=0

finish() {   # $1 scenario, $2 job, $3 kills, $4 Redis restarts, $5 app restarts, $6 start time
  local s; s=$(wait_final "$2")
  local gm="$(field "$2" generation), $(field "$2" members)"
  local verdict="reference"
  if [ "$s" != done ]; then LOST=$((LOST + 1)); verdict="–"; log "job $2 LOST: $s $(field "$2" error)"
  elif [ "$1" != reference ]; then
    adapter "$2" "$STATE/$2.safetensors"
    if verdict=$(node "$REPO/eng/chaos/adapter-diff.mjs" "$STATE/reference.safetensors" "$STATE/$2.safetensors"); then :; else DIFFERENT=$((DIFFERENT + 1)); fi
    verdict=$(jq -r 'if .identical then "bit-identical" elif .problems == [] then "max |Δ| \(.maxAbsDiff)" else "DIFFERENT: \(.problems|join("; ")) max |Δ| \(.maxAbsDiff)" end' <<< "$verdict")
  else adapter "$2" "$STATE/reference.safetensors"
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s ms |\n' "$1" "$2" "$3" "$4" "$5" "$s" "$gm" "$verdict" $(( $(now) - $6 )) "$(largest_gap)" >> "$RESULTS"
  log "$1: job $2 $s ($gm), adapter: $verdict"
}

discover 60
log "load: $(uptime | sed 's/.*load average/load average/'); job: $BODY"
for active in $(rcli ZRANGE ft:jobs 0 -1); do
  s=$(status "$active"); final "$s" || { log "waiting for job $active ($s) to end first"; wait_final "$active" > /dev/null; }
done

case ",$SCENARIOS," in *,reference,*) ;; *) die "the reference scenario is needed (the adapter to compare with)" ;; esac
t0=$(now); job=$(submit); log "reference job $job"; finish reference "$job" 0 0 0 "$t0"
[ -s "$STATE/reference.safetensors" ] || die "the reference job produced no adapter"

if [[ ",$SCENARIOS," == *,kills,* ]]; then
  while [ "$KILLED" -lt "$KILLS" ]; do
    t0=$(now); job=$(submit); before=$KILLED; log "kills job $job"
    gap=$(( STEPS / (KILLS + 4) )); [ "$gap" -ge 1 ] || gap=1
    high=0
    while [ "$KILLED" -lt "$KILLS" ]; do
      wait_step "$job" $(( high + gap ))
      final "$(status "$job")" && break
      s=$(step "$job"); s=${s%.*}; [ "${s:-0}" -gt "$high" ] && high=$s
      kill_replica "$job" || sleep 1
    done
    finish kills "$job" $(( KILLED - before )) 0 0 "$t0"
  done
fi

if [[ ",$SCENARIOS," == *,redis,* ]]; then
  t0=$(now); job=$(submit); log "redis job $job"
  wait_step "$job" $(( STEPS / 3 ))
  restart_redis
  finish redis "$job" 0 1 0 "$t0"
fi

if [[ ",$SCENARIOS," == *,app,* ]]; then
  t0=$(now); job=$(submit); log "app job $job"
  wait_step "$job" $(( STEPS / 3 ))
  restart_app
  finish app "$job" 0 0 1 "$t0"
fi

log "load: $(uptime | sed 's/.*load average/load average/')"
log "kills survived $KILLED, jobs lost $LOST, adapters different $DIFFERENT"
cat "$RESULTS"
[ "$LOST" = 0 ] && [ "$DIFFERENT" = 0 ]
