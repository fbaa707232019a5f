# Build rules for deploy/ (the platform deployment, issue 16): shipped in the dist tarball,
# not installed (it runs from its own directory; see deploy/README.md).
EXTRA_DIST += deploy/README.md deploy/Makefile deploy/.env.example deploy/aegis-deploy \
	deploy/deploy.mk deploy/images/build.sh deploy/images/runtime-entrypoint.sh \
	deploy/images/postgres-entrypoint.sh deploy/config/prometheus.yml deploy/config/openbao.hcl \
	deploy/profiles/minimal deploy/profiles/development deploy/profiles/full deploy/profiles/local \
	deploy/pods/pod-core.yaml deploy/pods/pod-database.yaml deploy/pods/pod-temporal.yaml \
	deploy/pods/pod-secrets.yaml deploy/pods/pod-iam.yaml deploy/pods/pod-storage.yaml \
	deploy/pods/pod-observability.yaml deploy/pods/pod-seal-gateway.yaml
