/*
 * test_state_file.c -- state_file.c's lock-file record (the pid and the note
 * a daemon that cannot write its state leaves for `status`), the lock probe,
 * and the streak of failed saves that is logged once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "state_file.h"

static void
test_streak(void **state)
{
	struct state_file_streak s = {0};

	(void)state;
	assert_int_equal(state_file_streak_note(&s, true), STATE_FILE_SAY_NOTHING);
	assert_int_equal(state_file_streak_note(&s, false), STATE_FILE_SAY_FAILING);
	for (int i = 0; i < 5; i++)
		assert_int_equal(state_file_streak_note(&s, false), STATE_FILE_SAY_NOTHING);
	assert_int_equal(s.failures, 6);
	assert_int_equal(state_file_streak_note(&s, true), STATE_FILE_SAY_RECOVERED);
	assert_int_equal(s.failures, 6); /* for the recovery line */
	assert_int_equal(state_file_streak_note(&s, true), STATE_FILE_SAY_NOTHING);
	/* A new streak is said again and counted afresh. */
	assert_int_equal(state_file_streak_note(&s, false), STATE_FILE_SAY_FAILING);
	assert_int_equal(s.failures, 1);
}

static void
test_lock_note_and_probe(void **state)
{
	char dir[] = "/tmp/mxf-test-lock-XXXXXX", path[64], note[STATE_FILE_LOCK_RECORD];
	char longnote[2 * STATE_FILE_LOCK_RECORD];
	long pid = -1;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lock", dir);
	/* No file, or nobody holding it: not held. */
	assert_int_equal(state_file_lock_probe(path, &pid, note, sizeof(note)), 0);
	fd = open(path, O_RDWR | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(state_file_lock_probe(path, &pid, note, sizeof(note)), 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	/* Held, with no record yet. */
	assert_int_equal(state_file_lock_probe(path, &pid, note, sizeof(note)), 1);
	assert_int_equal(pid, 0);
	assert_int_equal(state_file_lock_note(fd, NULL), 0);
	assert_int_equal(state_file_lock_probe(path, &pid, note, sizeof(note)), 1);
	assert_int_equal(pid, (long)getpid());
	assert_string_equal(note, "");
	assert_int_equal(state_file_lock_note(fd, "x: cannot rename: Read-only file system"), 0);
	assert_int_equal(state_file_lock_probe(path, &pid, note, sizeof(note)), 1);
	assert_string_equal(note, "x: cannot rename: Read-only file system");
	/* A note too long is cut to the record, which keeps its size. */
	memset(longnote, 'a', sizeof(longnote) - 1);
	longnote[sizeof(longnote) - 1] = '\0';
	assert_int_equal(state_file_lock_note(fd, longnote), 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), STATE_FILE_LOCK_RECORD);
	assert_int_equal(state_file_lock_probe(path, &pid, note, sizeof(note)), 1);
	assert_true(strlen(note) > 400 && strlen(note) < STATE_FILE_LOCK_RECORD);
	/* Cleared again. */
	assert_int_equal(state_file_lock_note(fd, NULL), 0);
	assert_int_equal(state_file_lock_probe(path, &pid, note, sizeof(note)), 1);
	assert_string_equal(note, "");
	close(fd);
	/* Released: not held, whatever the record says. */
	assert_int_equal(state_file_lock_probe(path, &pid, note, sizeof(note)), 0);
	assert_int_equal(pid, 0);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_streak),
		cmocka_unit_test(test_lock_note_and_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
