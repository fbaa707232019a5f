#!/bin/sh
# The aegis-runtime image's entry point (pod-core): aegis-nfsd in the background, aegisd in
# front. aegisd listens beyond loopback in the pod, so it requires the bearer token
# $AEGIS_API_TOKEN (it refuses to start without one); the store is $DATABASE_URL.
set -eu
: "${AEGIS_API_TOKEN:?AEGIS_API_TOKEN is empty: set it in .env}"
mkdir -p /run/aegis /var/lib/aegis
umask 077
printf '%s\n' "$AEGIS_API_TOKEN" >/run/aegis/tokens
cat >/run/aegis/config.yaml <<YAML
api:
  listen: "0.0.0.0:8088"
  metrics_listen: "0.0.0.0:9091"
  tokens_file: /run/aegis/tokens
storage:
  nfs_listen_addr: "0.0.0.0:2049"
  nfs_server_host: "127.0.0.1"
YAML
export STATE_DIRECTORY=/var/lib/aegis
aegis-nfsd --config=/run/aegis/config.yaml &
exec aegisd --config=/run/aegis/config.yaml
