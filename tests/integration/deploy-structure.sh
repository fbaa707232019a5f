#!/bin/bash
# The platform deployment's files (deploy/, issue 16) against the seed, without Podman:
# every Kube YAML has the seed's containers, container ports and health checks, and mounts
# the seed's named volumes; every profile names only existing pods, in dependency order,
# and the seed's profiles hold the seed's pods; every ${VAR} the pods and configs use is in
# .env.example, and so is every variable of the seed's table; `deploy` refuses, listing the
# variables it misses, before it touches anything; `generate-keys` writes an Ed25519 pair,
# files 0600, and does not overwrite it.
. "$AEGIS_TEST_LIB/common.sh"
require_cmd python3 envsubst openssl
python3 -c 'import yaml' 2>/dev/null || skip_or_fail "needs python3-yaml"
make_scratch
DEPLOY="$top_srcdir/deploy"

# --- the Kube YAMLs, rendered with .env.example's values ------------------------------------
cat >"$SCRATCH/.env" <<EOF
AEGIS_ROOT=$SCRATCH/root
GHCR_USERNAME=u
GHCR_TOKEN=t
POSTGRES_PASSWORD=p
KEYCLOAK_ADMIN_PASSWORD=k
AEGIS_API_TOKEN=a
EOF
for p in core database temporal secrets iam storage observability seal-gateway; do
        ENV_FILE="$SCRATCH/.env" "$DEPLOY/aegis-deploy" render "$p" >"$SCRATCH/pod-$p.yaml" 2>"$SCRATCH/render.err" \
                || fail "cannot render pod-$p: $(cat "$SCRATCH/render.err")"
done
python3 - "$DEPLOY" "$SCRATCH" <<'PY'
import glob, os, re, sys, yaml
deploy, scratch = sys.argv[1], sys.argv[2]
fails = 0
def check(what, ok):
    global fails
    print(("ok - " if ok else "not ok - ") + what)
    fails += 0 if ok else 1

# The seed's pod table: containers (our names), their ports; the health-check table; the
# volume table.
SEED = {
    "core": {"aegis-runtime": [8088, 50051, 2049, 9091]},
    "database": {"postgres": [5432], "postgres-exporter": [9187]},
    "temporal": {"temporal": [7233], "temporal-ui": [8233], "aegis-temporal-worker": [3000]},
    "secrets": {"openbao": [8200]},
    "iam": {"keycloak": [8180]},
    "storage": {"seaweedfs-master": [9333], "seaweedfs-volume": [8080], "seaweedfs-filer": [8888],
                "seaweedfs-webdav": [7333]},
    "observability": {"jaeger": [16686], "prometheus": [9090], "grafana": [3300], "loki": [3100],
                      "promtail": []},
    "seal-gateway": {"aegis-seal-gateway": [8089, 50055]},
}
HEALTH = {  # container: ("http", port, path) | ("exec", command prefix)
    "aegis-runtime": ("http", 8088, "/health"), "postgres": ("exec", ["pg_isready"]),
    "temporal": ("exec", ["temporal", "operator", "cluster", "health"]),
    "openbao": ("exec", "bao status"), "keycloak": ("http", 8180, "/health/ready"),
    "seaweedfs-master": ("http", 9333, "/cluster/status"), "prometheus": ("http", 9090, "/-/ready"),
    "grafana": ("http", 3300, "/api/health"), "loki": ("http", 3100, "/ready"),
    "aegis-seal-gateway": ("http", 8089, "/"),
}
VOLUMES = {"aegis-postgres-data": "database", "aegis-runtime-data": "core", "aegis-openbao-data": "secrets",
           "aegis-prometheus-data": "observability", "aegis-grafana-data": "observability",
           "aegis-loki-data": "observability", "aegis-seaweedfs-master-data": "storage",
           "aegis-seaweedfs-volume-data": "storage", "aegis-seaweedfs-filer-data": "storage",
           "aegis-seal-gateway-data": "seal-gateway", "aegis-temporal-worker-data": "temporal"}

check("exactly the seed's eight pods ship", sorted(os.path.basename(f) for f in glob.glob(deploy + "/pods/pod-*.yaml"))
      == sorted("pod-%s.yaml" % p for p in SEED))
for pod, want in SEED.items():
    text = open("%s/pod-%s.yaml" % (scratch, pod)).read()
    check("pod-%s: every ${VAR} was rendered" % pod, "${" not in text)
    doc = yaml.safe_load(text)
    check("pod-%s: a Kube Pod named pod-%s" % (pod, pod), doc.get("kind") == "Pod" and doc["metadata"]["name"] == "pod-" + pod)
    cs = {c["name"]: c for c in doc["spec"]["containers"]}
    check("pod-%s: containers %s" % (pod, " ".join(want)), sorted(cs) == sorted(want))
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in doc["spec"].get("volumes", []) if "persistentVolumeClaim" in v}
    mounted = set()
    for name, c in cs.items():
        check("pod-%s/%s: has an image" % (pod, name), bool(c.get("image")))
        ports = [p["containerPort"] for p in c.get("ports", [])]
        check("pod-%s/%s: container ports %s" % (pod, name, want.get(name)), ports == want.get(name))
        check("pod-%s/%s: every port published on an integer hostPort" % (pod, name),
              all(isinstance(p.get("hostPort"), int) for p in c.get("ports", [])))
        probe = c.get("livenessProbe")
        if name != "promtail":
            check("pod-%s/%s: has a health probe" % (pod, name), bool(probe))
        h = HEALTH.get(name)
        if h and h[0] == "http":
            g = (probe or {}).get("httpGet", {})
            check("pod-%s/%s: probe GET %s on :%d" % (pod, name, h[2], h[1]), g.get("path") == h[2] and g.get("port") == h[1])
        elif h and h[0] == "exec":
            cmd = (probe or {}).get("exec", {}).get("command", [])
            ok = cmd[:len(h[1])] == h[1] if isinstance(h[1], list) else h[1] in " ".join(cmd)
            check("pod-%s/%s: probe runs %s" % (pod, name, h[1] if isinstance(h[1], str) else " ".join(h[1])), ok)
        mounted |= {m["name"] for m in c.get("volumeMounts", [])}
    for vol, vpod in VOLUMES.items():
        if vpod == pod:
            vname = [k for k, v in claims.items() if v == vol]
            check("pod-%s: the named volume %s is declared and mounted" % (pod, vol), len(vname) == 1 and vname[0] in mounted)
    check("pod-%s: no named volume besides the seed's" % pod, all(v in VOLUMES and VOLUMES[v] == pod for v in claims.values()))

# Profiles.
SEED_PROFILES = {"minimal": {"core", "secrets"},
                 "development": {"core", "secrets", "database", "temporal", "iam", "observability"},
                 "full": set(SEED)}
def pods_of(name):
    out = []
    for line in open("%s/profiles/%s" % (deploy, name)):
        line = line.split("#")[0].strip()
        if line and not re.match(r"^[A-Z_][A-Z0-9_]*=", line):
            out.append(line.split(":")[0].strip())
    return out
for name, want in SEED_PROFILES.items():
    check("profile %s holds the seed's pods" % name, set(pods_of(name)) == want)
check("profile local holds core, database and observability", set(pods_of("local")) == {"core", "database", "observability"})
for f in sorted(glob.glob(deploy + "/profiles/*")):
    check("profile %s names only existing pods" % os.path.basename(f), all(p in SEED for p in pods_of(os.path.basename(f))))

# Variables.
defined = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", open(deploy + "/.env.example").read(), re.M))
used = set()
for f in glob.glob(deploy + "/pods/*.yaml") + glob.glob(deploy + "/config/*") + glob.glob(deploy + "/profiles/*"):
    used |= set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", open(f).read()))
check("every ${VAR} of pods/, config/ and profiles/ is in .env.example (missing: %s)" % " ".join(sorted(used - defined)), used <= defined)
seed_vars = {"AEGIS_ROOT", "GHCR_USERNAME", "GHCR_TOKEN", "AEGIS_IMAGE_TAG", "POSTGRES_PASSWORD",
             "KEYCLOAK_ADMIN_PASSWORD", "RUST_LOG", "CONTAINER_SOCK"}
check("every variable of the seed's table is in .env.example", seed_vars <= defined)
sys.exit(1 if fails else 0)
PY
[ $? = 0 ] || TEST_FAILURES=$((TEST_FAILURES + 1))

# --- profiles: dependency order is enforced ----------------------------------------------------
for p in minimal development full local; do
        check "profile $p is in dependency order" "$DEPLOY/aegis-deploy" check-profile "$p"
done
cp -r "$DEPLOY" "$SCRATCH/deploy-copy"
printf 'core\ndatabase\n' >"$SCRATCH/deploy-copy/profiles/backwards"
printf 'core\nnosuchpod\n' >"$SCRATCH/deploy-copy/profiles/unknown"
out="$("$SCRATCH/deploy-copy/aegis-deploy" check-profile backwards 2>&1)"
assert_match "a profile starting core before database is refused" 'core needs database' "$out"
out="$("$SCRATCH/deploy-copy/aegis-deploy" check-profile unknown 2>&1)"
assert_match "a profile naming no pod is refused" 'no pod "nosuchpod"' "$out"

# --- deploy refuses with the list of what is missing ------------------------------------------
: >"$SCRATCH/empty.env"
out="$(make -s -C "$DEPLOY" ENV="$SCRATCH/empty.env" deploy PROFILE=local 2>&1)"
rc=$?
out="$(grep '^aegis-deploy:' <<<"$out")"
check "make deploy PROFILE=local with an empty .env fails" test "$rc" -ne 0
assert_match "… listing AEGIS_ROOT POSTGRES_PASSWORD AEGIS_API_TOKEN" 'needs these variables .*: AEGIS_ROOT POSTGRES_PASSWORD AEGIS_API_TOKEN$' "$out"
out="$(make -s -C "$DEPLOY" ENV="$SCRATCH/empty.env" deploy PROFILE=full 2>&1 | grep '^aegis-deploy:')"
assert_match "… PROFILE=full also lists the registry and Keycloak variables" \
        ': AEGIS_ROOT GHCR_USERNAME GHCR_TOKEN POSTGRES_PASSWORD KEYCLOAK_ADMIN_PASSWORD AEGIS_API_TOKEN$' "$out"
out="$(make -s -C "$DEPLOY" ENV="$SCRATCH/empty.env" deploy 2>&1)"
assert_match "make deploy without PROFILE names the profiles" 'which profile\? .*local' "$out"
out="$(make -s -C "$DEPLOY" ENV="$SCRATCH/empty.env" deploy PROFILE=nosuch 2>&1)"
assert_match "make deploy PROFILE=nosuch names the profiles" 'no profile "nosuch": choose one of' "$out"

# --- generate-keys ----------------------------------------------------------------------------------
printf 'AEGIS_ROOT=%s\n' "$SCRATCH/root" >"$SCRATCH/keys.env"
out="$(make -s -C "$DEPLOY" ENV="$SCRATCH/keys.env" generate-keys 2>&1)"
K="$SCRATCH/root/keys/seal-signing"
check "make generate-keys writes the key pair${out:+: $out}" test -s "$K.key" -a -s "$K.pub"
assert_eq "… private key mode 0600" 600 "$(stat -c %a "$K.key")"
assert_eq "… public key mode 0600" 600 "$(stat -c %a "$K.pub")"
assert_match "… an Ed25519 key" 'ED25519 Private-Key' "$(openssl pkey -in "$K.key" -text -noout 2>&1 | head -1)"
sum="$(sha256sum <"$K.key")"
out="$(make -s -C "$DEPLOY" ENV="$SCRATCH/keys.env" generate-keys 2>&1)"
rc=$?
check "… a second run refuses to replace it (exit $rc)" test "$rc" -ne 0
assert_eq "… and leaves the key alone" "$sum" "$(sha256sum <"$K.key")"
finish
