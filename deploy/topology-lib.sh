# shellcheck shell=bash disable=SC2034
# Helpers shared by topology-up.sh and topology-down.sh (sourced, not run).

PGBIN=${CARTORIO_PG_BIN:-/usr/lib/postgresql/15/bin}
NGINX=${CARTORIO_NGINX:-/usr/sbin/nginx}

# initdb and postgres refuse to run as root: as root they run as the `postgres` user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# running PID: the process exists and is not a zombie. Reads /proc directly: topology_processes
# calls it for every process on the machine.
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ -n "$stat" ] && [ "${stat%% *}" != Z ]
}

# stop_pid NAME PID EXPECT SIGNAL SECONDS: sends SIGNAL to PID when it runs and its command
# line contains EXPECT (a stale pid file must not kill an unrelated process), waits up to
# SECONDS for it to go, then SIGKILLs it.
stop_pid() {
  local name=$1 pid=$2 expect=$3 sig=$4 seconds=$5 i
  [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid" || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$expect" || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do
    running "$pid" || break
    sleep 0.1
  done
  if running "$pid"; then
    echo "topology: $name (pid $pid) still runs ${seconds}s after SIG$sig: SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      running "$pid" || break
      sleep 0.1
    done
  fi
  echo "topology: stopped $name (pid $pid)"
}

# stop_pidfile NAME FILE EXPECT SIGNAL SECONDS: stop_pid with the pid in FILE, then removes FILE.
stop_pidfile() {
  [ -f "$2" ] || return 0
  stop_pid "$1" "$(cat "$2" 2>/dev/null || true)" "$3" "$4" "$5"
  rm -f "$2"
}

# topology_processes DIR: "PID COMMAND" of every live process that belongs to the topology in
# DIR: its working directory is inside DIR (every component is started from there; PostgreSQL
# and Redis move into their own directories under it) or DIR is on its command line. The
# calling shell and its ancestors are left out (their command line names DIR).
topology_processes() {
  local dir=$1 skip=" " p=$BASHPID stat cwd cmd pid
  while [[ "$p" =~ ^[0-9]+$ ]] && [ "$p" -gt 1 ]; do
    skip+="$p "
    stat=$(cat "/proc/$p/stat" 2>/dev/null) || break
    stat=${stat##*) }
    read -r _ p _ <<<"$stat"
  done
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    case "$skip" in *" $pid "*) continue ;; esac
    running "$pid" || continue
    cwd=$(readlink "$p/cwd" 2>/dev/null) || cwd=""
    cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || cmd=""
    if [[ "$cwd" == "$dir" || "$cwd" == "$dir"/* || "$cmd" == *"$dir"* ]]; then
      echo "$pid ${cmd:-[$(cat "$p/comm" 2>/dev/null)]}"
    fi
  done
}
