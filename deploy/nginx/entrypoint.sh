#!/bin/sh
# Run nginx with an upstream list that follows the replicas' addresses.
#
# nginx 1.22 (Debian bookworm) resolves upstream host names once, when it loads its configuration. A replica that
# is restarted comes back with a new address on the compose network, and a stopped one has none, so a list
# resolved once would keep sending to an address nobody answers on. This writes the list from what Docker's DNS
# says now (replicas that do not resolve are left out) and reloads nginx, gracefully, whenever it changes.
set -eu
UPSTREAMS="${CITEBOT_UPSTREAMS:-citebot:7860 citebot-b:7860}"
CONF=/run/citebot-proxy/upstreams.conf
INTERVAL="${CITEBOT_PROXY_RESOLVE_SECONDS:-1}"

render() {
  servers=""
  for hostport in $UPSTREAMS; do
    host="${hostport%:*}"
    port="${hostport##*:}"
    ip="$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }')" || ip=""
    # max_fails=1: one failed connection takes the replica out for 10 s, so only one request pays the timeout.
    [ -n "$ip" ] && servers="${servers}    server ${ip}:${port} max_fails=1 fail_timeout=10s;  # ${host}
"
  done
  [ -n "$servers" ] || servers="    server 127.0.0.1:9 down;  # no replica resolves right now: 502
"
  printf 'upstream citebot {\n%s}\nupstream citebot_sticky {\n    ip_hash;\n%s}\n' "$servers" "$servers"
}

mkdir -p "$(dirname "$CONF")"
render > "$CONF"
echo "citebot-proxy: upstreams:" >&2
grep server "$CONF" | sort -u >&2
nginx -t -q
nginx -g 'daemon off;' &
pid=$!
trap 'kill -QUIT "$pid" 2>/dev/null; wait "$pid"; exit 0' TERM INT QUIT

while kill -0 "$pid" 2>/dev/null; do
  sleep "$INTERVAL" & wait $! || true
  new="$(render)"
  if [ "$new" != "$(cat "$CONF")" ]; then
    printf '%s\n' "$new" > "$CONF"
    echo "citebot-proxy: replica addresses changed, reloading:" >&2
    grep server "$CONF" | sort -u >&2
    nginx -s reload || echo "citebot-proxy: reload failed; nginx keeps the previous upstreams" >&2
  fi
done
wait "$pid"
