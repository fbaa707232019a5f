# Build rules for units (units); appended to the lists in the top Makefile.am.

# Host set-up shipped as files (issue 8): the aegis user, its directories and linger flag,
# and cgroup delegation for every user manager.
tmpfiles_DATA += tmpfiles/aegis.conf
sysusers_DATA += sysusers/aegis.conf
EXTRA_DIST += tmpfiles/aegis.conf
EXTRA_DIST += sysusers/aegis.conf
EXTRA_DIST += units/user-delegate.conf
# "@" cannot appear in automake file lists: install the drop-in under its real name here.
userdropindir = $(systemdsystemunitdir)/user@.service.d
install-data-local: install-user-dropin
uninstall-local: uninstall-user-dropin
install-user-dropin:
	$(MKDIR_P) '$(DESTDIR)$(userdropindir)'
	$(INSTALL_DATA) '$(srcdir)/units/user-delegate.conf' '$(DESTDIR)$(userdropindir)/50-aegis-delegate.conf'
uninstall-user-dropin:
	rm -f '$(DESTDIR)$(userdropindir)/50-aegis-delegate.conf'
	-rmdir '$(DESTDIR)$(userdropindir)' 2>/dev/null
.PHONY: install-user-dropin uninstall-user-dropin
# System-bus policy so the system flavour of aegisd may own org.aegis1.
dbussystemdir = $(datadir)/dbus-1/system.d
dist_dbussystem_DATA = units/dbus/org.aegis1.conf

# aegis-reaper (issue 5): the timer and the oneshot service, user and system flavours
# (same names, different directories); @bindir@ is substituted at build time.
systemdsystemunit_DATA += units/aegis-reaper.service units/aegis-reaper.timer
systemduserunit_DATA += units/user/aegis-reaper.service units/aegis-reaper.timer
EXTRA_DIST += units/aegis-reaper.service.in units/user/aegis-reaper.service.in units/aegis-reaper.timer
CLEANFILES += units/aegis-reaper.service units/user/aegis-reaper.service
units/aegis-reaper.service: units/aegis-reaper.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && sed -e 's|[@]bindir[@]|$(bindir)|g' $(srcdir)/units/aegis-reaper.service.in >$@
units/user/aegis-reaper.service: units/user/aegis-reaper.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && sed -e 's|[@]bindir[@]|$(bindir)|g' $(srcdir)/units/user/aegis-reaper.service.in >$@
# Every unit: systemd-analyze verify and security exposure budgets (issue 8).
TESTS += tests/integration/units-verify-clean.sh
TESTS += tests/integration/units-security-exposure.sh
EXTRA_DIST += tests/integration/units-verify-clean.sh
EXTRA_DIST += tests/integration/units-security-exposure.sh
# User-bus activation file: org.aegis1 starts aegis.service on demand.
dbussessiondir = $(datadir)/dbus-1/services
dist_dbussession_DATA = units/dbus/org.aegis1.service

# aegisd (issue 2): the API and metrics sockets (one file for both managers) and the
# service, user and system flavours (same name, different directories); @sbindir@ substituted.
systemdsystemunit_DATA += units/aegis.socket units/aegis-metrics.socket units/aegis.service
systemduserunit_DATA += units/user/aegis.socket units/user/aegis-metrics.socket units/user/aegis.service
EXTRA_DIST += units/aegis.socket units/aegis-metrics.socket units/aegis.service.in units/user/aegis.service.in
CLEANFILES += units/aegis.service units/user/aegis.service units/user/aegis.socket units/user/aegis-metrics.socket
# The sockets are the same for both managers: one source, copied beside the user service.
units/user/aegis.socket: units/aegis.socket
	$(AM_V_GEN)$(MKDIR_P) $(@D) && cp $(srcdir)/units/aegis.socket $@
units/user/aegis-metrics.socket: units/aegis-metrics.socket
	$(AM_V_GEN)$(MKDIR_P) $(@D) && cp $(srcdir)/units/aegis-metrics.socket $@
units/aegis.service: units/aegis.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && sed -e 's|[@]sbindir[@]|$(sbindir)|g' $(srcdir)/units/aegis.service.in >$@
units/user/aegis.service: units/user/aegis.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && sed -e 's|[@]sbindir[@]|$(sbindir)|g' $(srcdir)/units/user/aegis.service.in >$@
TESTS += tests/integration/units-verify.sh
EXTRA_DIST += tests/integration/units-verify.sh
systemdsystemunit_DATA += units/aegis-nfs.socket units/aegis-nfs.service
systemduserunit_DATA += units/user/aegis-nfs.socket units/user/aegis-nfs.service
EXTRA_DIST += units/aegis-nfs.socket units/aegis-nfs.service.in units/user/aegis-nfs.socket units/user/aegis-nfs.service.in
CLEANFILES += units/aegis-nfs.service units/user/aegis-nfs.service
units/aegis-nfs.service: units/aegis-nfs.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && sed -e 's|[@]sbindir[@]|$(sbindir)|g' $(srcdir)/units/aegis-nfs.service.in >$@
units/user/aegis-nfs.service: units/user/aegis-nfs.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && sed -e 's|[@]sbindir[@]|$(sbindir)|g' $(srcdir)/units/user/aegis-nfs.service.in >$@
