# Shared by the service scripts: where things go, and small helpers.
ALL_SERVICES=(postgres redis s3 solr ckan)
SERVICES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Runtime state goes under /tmp by default, not in the checkout: servers that refuse to
# run as root (PostgreSQL) run as their own user, which must be able to reach it, and a
# checkout may sit in a private folder (mktemp -d makes one). One folder per checkout.
_checkout="$(cd "$SERVICES_DIR/.." && pwd)"
export SEN_SERVICES_HOME="${SEN_SERVICES_HOME:-${TMPDIR:-/tmp}/sen-services-$(printf %s "$_checkout" | md5sum | cut -c1-10)}"
export SEN_SERVICES_CACHE="${SEN_SERVICES_CACHE:-$HOME/.cache/sen-services}"
mkdir -p "$SEN_SERVICES_HOME"
chmod 755 "$SEN_SERVICES_HOME"
mkdir -p "$SEN_SERVICES_HOME/logs" "$SEN_SERVICES_HOME/env" "$SEN_SERVICES_HOME/run" "$SEN_SERVICES_CACHE"

# wait_for "what" seconds command...: retry the command until it succeeds.
wait_for() {
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "$what did not become ready within ${seconds}s; see $SEN_SERVICES_HOME/logs/" >&2
      return 1
    fi
    sleep 0.5
  done
}

# write_env name KEY=VALUE...: the variables tests read for this service.
write_env() {
  local name="$1"; shift
  : > "$SEN_SERVICES_HOME/env/$name.env"
  for kv in "$@"; do echo "export $kv" >> "$SEN_SERVICES_HOME/env/$name.env"; done
}

# pid_alive file: true if the pid in file runs.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid name file: TERM, wait, then KILL.
stop_pid() {
  local name="$1" file="$2"
  if pid_alive "$file"; then
    local pid; pid="$(cat "$file")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    echo "$name stopped"
  fi
  rm -f "$file"
  rm -f "$SEN_SERVICES_HOME/env/$name.env"
}

# apt_install package...: Debian packages, installed once.
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  (apt-get update -qq || true) >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
