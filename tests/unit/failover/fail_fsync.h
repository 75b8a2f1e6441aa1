/*
 * fail_fsync.h -- a test-only fsync() that can be told to fail on
 * directories.  Root cannot be kept out of a directory, so a failing fsync
 * of one (after the rename of an atomic write) is made here; files sync as
 * ever.  fail_fsync.c defines fsync() for the test binaries that link it.
 */
#ifndef MXF_TEST_FAIL_FSYNC_H
#define MXF_TEST_FAIL_FSYNC_H

#include <stdbool.h>

/* While true, fsync() of a directory fails with EIO. */
extern bool fail_dir_fsync;

#endif
