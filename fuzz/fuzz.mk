# Build rules for fuzz (fuzz); appended to the lists in the top Makefile.am.
# libFuzzer targets, built with --enable-fuzzing CC=clang. Each compiles the sources it
# exercises itself, so they are instrumented whatever flags the shared library got.
# Run: fuzz/fuzz-manifest -max_total_time=60 $(srcdir)/fuzz/corpus/manifest
FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) $(AEGIS_DEP_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer
FUZZ_LINK_FLAGS = -fsanitize=fuzzer,address,undefined
FUZZ_CORE_SOURCES = src/shared/util.c src/shared/error.c src/shared/yaml-tree.c
EXTRA_DIST += fuzz/corpus

if ENABLE_FUZZING
noinst_PROGRAMS += fuzz/fuzz-manifest
endif
fuzz_fuzz_manifest_SOURCES = fuzz/manifest.c $(FUZZ_CORE_SOURCES) src/shared/manifest.c
fuzz_fuzz_manifest_CFLAGS = $(FUZZ_COMPILE_FLAGS)
fuzz_fuzz_manifest_LDFLAGS = $(FUZZ_LINK_FLAGS)
fuzz_fuzz_manifest_LDADD = $(AEGIS_DEP_LIBS)
