# Build rules for monitoring/: the Grafana dashboard and the Prometheus alert rules for
# aegisd's and aegis-nfsd's metrics, installed under /usr/share/aegis/monitoring (issue 17).
monitoringdir = $(pkgdatadir)/monitoring
dist_monitoring_DATA = monitoring/aegis-alerts.yml monitoring/aegis-dashboard.json
EXTRA_DIST += monitoring/aegis-alerts.test.yml

# promtool check/test rules, the dashboard's queries, and every metric name both use is one
# the daemons export.
TESTS += tests/integration/monitoring-rules.sh
EXTRA_DIST += tests/integration/monitoring-rules.sh
SANITIZER_SKIP_TESTS += tests/integration/monitoring-rules.sh
