#!/usr/bin/env bash
# Makes this machine ready for the test suite, idempotently: Debian's docker.io (a real engine),
# busybox-static (test images are built locally from it: no registry is reachable), iptables
# (the sandbox's firewall rule), chromium (end-to-end tests), systemd (systemd-analyze, for
# the service's unit), docker-registry and skopeo (a real registry on 127.0.0.1 and pushing
# images made at test time to it), prometheus (promtool and a real scraper for the metrics tests); then starts dockerd if it is not running. Needs root to install; without root it only reports what is missing.
set -euo pipefail

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /bin/busybox ] || command -v busybox >/dev/null 2>&1 || need+=(busybox-static)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
[ -x /usr/bin/chromium ] || need+=(chromium)
# systemd-analyze: the service's unit file is checked with `systemd-analyze verify`.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# The image tests run real registries (origin and pull-through mirror) and push to them with skopeo.
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
# The metrics tests scrape real agents with Prometheus and check their output with promtool (both in Debian's package).
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "prepare-machine: missing ${need[*]}; install them as root (apt-get install -y ${need[*]}). Tests that need them will say they are skipped." >&2
    exit 0
  fi
  echo "prepare-machine: installing ${need[*]}…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v dockerd >/dev/null 2>&1; then
    echo "prepare-machine: starting dockerd…" >&2
    mkdir -p /var/log
    nohup dockerd >/var/log/offshift-test-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
      docker info >/dev/null 2>&1 && break
      sleep 0.5
    done
    docker info >/dev/null 2>&1 || { echo "prepare-machine: dockerd did not start; see /var/log/offshift-test-dockerd.log" >&2; exit 1; }
  else
    echo "prepare-machine: the Docker engine is not running and cannot be started here; Docker tests will say they are skipped." >&2
  fi
fi

# The agent's own user is rarely root: the desktop app runs as the logged-in user in the `docker`
# group, and tests run a runner as such a user (test/integration/jobs/nonroot.test.ts). The local
# socket must be the docker group's, read-write (dockerd does this when the group exists at start).
sock=/var/run/docker.sock
if [ "$(id -u)" -eq 0 ] && [ -S "$sock" ]; then
  getent group docker >/dev/null 2>&1 || groupadd --system docker
  if [ "$(stat -c %G "$sock")" != docker ] || [ $(( 0$(stat -c %a "$sock") & 060 )) -ne $(( 060 )) ]; then
    echo "prepare-machine: giving $sock to the docker group (rw)…" >&2
    chgrp docker "$sock" && chmod g+rw "$sock"
  fi
fi
