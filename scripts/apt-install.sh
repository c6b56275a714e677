#!/usr/bin/env bash
# apt-get install PACKAGE... from Debian, waiting (up to APT_LOCK_TIMEOUT s, default 300) for the dpkg
# and package-list locks when another apt process holds them (unattended upgrades on a fresh CI
# machine, a second set-up script), instead of failing at once. Says what it waits for.
# Used by scripts/browser-deps.sh, scripts/scale-deps.sh and scripts/container-test.sh.
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
TIMEOUT="${APT_LOCK_TIMEOUT:-300}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
APT=($SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$TIMEOUT" -y -qq)

# Report a holder before apt-get starts waiting silently. POSIX locks (apt's) show in /proc/locks
# as "... WRITE <pid> <major>:<minor>:<inode> ...".
holders() {
  local lock inode pid
  for lock in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock; do
    [ -e "$lock" ] || continue
    inode="$(stat -c %i "$lock")"
    while read -r pid; do
      [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && echo "$lock (pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" | cut -c1-80))"
    done < <(awk -v ino=":$inode\$" '$0 ~ /POSIX/ { split($0, f, " "); for (i = 1; i <= NF; i++) if (f[i] ~ ino) print f[i-1] }' /proc/locks | sort -u)
  done
}
held="$(holders || true)"
if [ -n "$held" ]; then
  echo "apt-install: another apt/dpkg process holds a lock; waiting up to ${TIMEOUT}s for it to finish:" >&2
  echo "$held" | sed 's/^/  /' >&2
fi

echo "apt-install: apt-get update && apt-get install $*" >&2
# DPkg::Lock::Timeout covers dpkg's locks but apt-get update gives up on the lists lock at once:
# retry that one until the same deadline.
deadline=$((SECONDS + TIMEOUT))
until err="$("${APT[@]}" update 2>&1 >/dev/null)"; do
  if grep -q "Could not get lock" <<<"$err" && [ "$SECONDS" -lt "$deadline" ]; then sleep 2; continue; fi
  echo "$err" >&2
  exit 1
done
"${APT[@]}" install "$@" >/dev/null
