/* test-main.h — the one main() of every check-based unit test: runs a suite, exit 0 on pass. */
#pragma once

#include <check.h>

/* The code asserts its contracts (HACKING.md); the tests run with them on. */
#ifdef NDEBUG
#error "build the tests without NDEBUG: they rely on the code's assert()s"
#endif

static inline int run_suite(Suite *s) {
        SRunner *sr = srunner_create(s);
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? 0 : 1;
}
