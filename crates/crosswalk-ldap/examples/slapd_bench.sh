#!/usr/bin/env bash
# The live LDAP read of BENCHMARKS.md: loads an LDIF (`crosswalk generate --format ldif`) into
# a private OpenLDAP slapd on a loopback port (mdb backend, as the LDAP tests start it, with a
# size limit of 500 so that the read must page), then reads it ROUNDS times, each under
# /usr/bin/time -v: with the read_directory example (the import alone), and with
# `crosswalk run` (read, resolve against DESTINATION, save to a new SQLite store).
# The reader binds with a password generated here, passed in a file (never on a command
# line). slapd is killed by its pid when the script ends.
#
#   cargo build --release -p crosswalk-cli && cargo build --release -p crosswalk-ldap --example read_directory
#   crosswalk generate --format ldif -n 100000 -o gen-ldif
#   crates/crosswalk-ldap/examples/slapd_bench.sh gen-ldif/source.ldif gen-ldif/destination.ldif 3
set -euo pipefail
ldif=$(realpath "$1")
destination=$(realpath "$2")
rounds=${3:-3}
root=$(cd "$(dirname "$0")/../../.." && pwd)
crosswalk=${CROSSWALK:-$root/target/release/crosswalk}
reader=${READ_DIRECTORY:-$root/target/release/examples/read_directory}
suffix="dc=example,dc=com"
work=$(mktemp -d)
slapd_pid=
cleanup() {
  if [ -n "$slapd_pid" ]; then kill "$slapd_pid" 2>/dev/null || true; wait "$slapd_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/db"
cat >"$work/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile $work/slapd.pid
argsfile $work/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
# pwdAccountLockedTime, which the generated LDIF sets on inactive accounts.
moduleload ppolicy
sizelimit size.soft=500 size.hard=500 size.prtotal=unlimited
database mdb
maxsize 8589934592
suffix "$suffix"
rootdn "cn=admin,$suffix"
rootpw admin-$RANDOM$RANDOM
directory $work/db
access to attrs=userPassword by anonymous auth by * none
access to * by * read
CONF
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
umask 077
printf 'cn=reader,%s\n%s\n' "$suffix" "$password" >"$work/bind.txt"
printf 'dn: cn=reader,%s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: %s\n\n' \
  "$suffix" "$password" >"$work/reader.ldif"

echo "== slapadd $(wc -l <"$ldif") lines"
start=$(date +%s.%N)
/usr/sbin/slapadd -f "$work/slapd.conf" -s -q -l "$ldif"
/usr/sbin/slapadd -f "$work/slapd.conf" -s -q -l "$work/reader.ldif"
echo "slapadd: $(echo "$(date +%s.%N) - $start" | bc) s"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="ldap://127.0.0.1:$port"
/usr/sbin/slapd -f "$work/slapd.conf" -h "$url/" -d 0 </dev/null >/dev/null 2>"$work/slapd.log" &
slapd_pid=$!
for _ in $(seq 200); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.1
done
echo "slapd $slapd_pid on $url"

for round in $(seq "$rounds"); do
  echo "== round $round: uptime $(uptime)"
  /usr/bin/time -v "$reader" "$url" --base "$suffix" --credentials "$work/bind.txt" 2>"$work/time.txt"
  grep -E "Elapsed|Maximum resident|User time|System time" "$work/time.txt"
  rm -f "$work/s.sqlite"
  /usr/bin/time -v "$crosswalk" run --store "$work/s.sqlite" -s "$url" --ldap-base "$suffix" \
    --ldap-credentials "$work/bind.txt" -d "$destination" --job bench 2>"$work/time.txt" | tail -3
  grep -E "Elapsed|Maximum resident|User time|System time" "$work/time.txt"
done
echo "== done: uptime $(uptime)"
