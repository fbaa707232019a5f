# Build rules for packaging (packaging); appended to the lists in the top Makefile.am.

# Package scripts' helper: subordinate ids for the aegis user (rootless Podman).
aegislibexecdir = $(libexecdir)/aegis
dist_aegislibexec_SCRIPTS = packaging/aegis-subid packaging/aegis-user-units

# Needed by `make distcheck` and listed by nobody else.
EXTRA_DIST += tests/unit/test-main.h
EXTRA_DIST += HACKING.md

# Debian and RPM packaging, built from the `make dist` tarball (issue 8).
EXTRA_DIST += packaging/rpm/aegis.spec
EXTRA_DIST += packaging/debian/control
EXTRA_DIST += packaging/debian/rules
EXTRA_DIST += packaging/debian/changelog
EXTRA_DIST += packaging/debian/copyright
EXTRA_DIST += packaging/debian/source/format
EXTRA_DIST += packaging/debian/aegis.postinst
EXTRA_DIST += packaging/debian/aegis.postrm
EXTRA_DIST += packaging/debian/aegis.prerm
EXTRA_DIST += packaging/debian/aegis.lintian-overrides

PKG_WORKDIR = $(abs_top_builddir)/pkg-build
PKG_TARBALL = $(distdir).tar.xz
# `make dist` and the copy of its tarball under one lock: make check runs the deb (e2e) and
# rpm (rpm-payload) tests at once, and two dists in one build tree remove each other's distdir.
PKG_DIST_TO = flock '$(abs_top_builddir)/.pkg-dist.lock' sh -c \
	'XZ_OPT=$${XZ_OPT:--1} $(MAKE) $(AM_MAKEFLAGS) dist && cp "$$0" "$$1"' '$(PKG_TARBALL)'

# make deb: aegis_VERSION-1_ARCH.deb in the build directory.
deb:
	rm -rf '$(PKG_WORKDIR)/deb' && $(MKDIR_P) '$(PKG_WORKDIR)/deb'
	$(PKG_DIST_TO) '$(PKG_WORKDIR)/deb/'
	tar -C '$(PKG_WORKDIR)/deb' -xJf '$(PKG_WORKDIR)/deb/$(PKG_TARBALL)'
	cp -R '$(PKG_WORKDIR)/deb/$(distdir)/packaging/debian' '$(PKG_WORKDIR)/deb/$(distdir)/debian'
	cd '$(PKG_WORKDIR)/deb/$(distdir)' && DEB_BUILD_OPTIONS="nocheck parallel=2 $${DEB_BUILD_OPTIONS:-}" \
		dpkg-buildpackage -us -uc -b >'$(PKG_WORKDIR)/deb/build.log' 2>&1 \
		|| { tail -40 '$(PKG_WORKDIR)/deb/build.log'; exit 1; }
	cp '$(PKG_WORKDIR)/deb/'*.deb '$(PKG_WORKDIR)/deb/'*.changes .
	@ls -1 '$(PKG_WORKDIR)/deb/'*.deb

# make rpm: aegis-VERSION-1.ARCH.rpm in the build directory (rpmbuild --nodeps: Debian
# hosts have an empty RPM database).
rpm:
	rm -rf '$(PKG_WORKDIR)/rpm' && $(MKDIR_P) '$(PKG_WORKDIR)/rpm/SOURCES'
	$(PKG_DIST_TO) '$(PKG_WORKDIR)/rpm/SOURCES/'
	cp '$(srcdir)/sysusers/aegis.conf' '$(PKG_WORKDIR)/rpm/SOURCES/aegis.sysusers'
	rpmbuild -ba --nodeps --define '_topdir $(PKG_WORKDIR)/rpm' --define 'aegis_version $(VERSION)' \
		--define '_smp_mflags -j2' '$(srcdir)/packaging/rpm/aegis.spec' >'$(PKG_WORKDIR)/rpm/build.log' 2>&1 \
		|| { tail -40 '$(PKG_WORKDIR)/rpm/build.log'; exit 1; }
	cp '$(PKG_WORKDIR)/rpm/RPMS/'*/*.rpm '$(PKG_WORKDIR)/rpm/SRPMS/'*.rpm .
	@ls -1 '$(PKG_WORKDIR)/rpm/RPMS/'*/*.rpm

clean-local: clean-packages
clean-packages:
	rm -rf '$(PKG_WORKDIR)' '$(abs_top_builddir)/.pkg-dist.lock'
.PHONY: deb rpm clean-packages

# The packaged product under a real systemd in a container (TESTING.md "systemd").
TESTS += tests/e2e/systemd-container.sh
EXTRA_DIST += tests/e2e/systemd-container.sh
# The RPM from `make rpm`: its payload and scriptlets.
TESTS += tests/e2e/rpm-payload.sh
EXTRA_DIST += tests/e2e/rpm-payload.sh
SANITIZER_SKIP_TESTS += tests/e2e/rpm-payload.sh
EXTRA_DIST += tests/e2e/rootfs.sh
# The end-to-end test's cache (rootfs tarball, .deb per source hash) survives `make clean`.
distclean-local: clean-e2e-cache
clean-e2e-cache:
	rm -rf '$(abs_top_builddir)/tests/e2e/cache'
.PHONY: clean-e2e-cache
