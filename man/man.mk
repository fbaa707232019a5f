# Build rules for man (man); appended to the lists in the top Makefile.am.

dist_man_MANS += man/aegis.systemd.7
TESTS += tests/integration/man-pages-lint-clean.sh
EXTRA_DIST += tests/integration/man-pages-lint-clean.sh
dist_man_MANS += man/aegis.1
dist_man_MANS += man/aegis-manifest.5
dist_man_MANS += man/aegis-database.7
dist_man_MANS += man/aegis-reaper.8
dist_man_MANS += man/aegisd.8
dist_man_MANS += man/aegis-config.yaml.5
dist_man_MANS += man/aegis-nfsd.8
dist_man_MANS += man/aegis-volumes.7
dist_man_MANS += man/aegis-podman.7
dist_man_MANS += man/aegis-api.7
