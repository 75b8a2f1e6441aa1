/*
 * state_file.h -- reading and writing the small files mxfailover keeps
 * between runs (the state file, the pins file): an atomic replace, of bytes
 * or of a JSON document.  They are read with file_read() (core/file.h).
 *
 * An atomic replace writes a temporary file in the same directory, fsyncs
 * it, renames it over the old file and fsyncs the directory, so a crash at
 * any point leaves either the old or the new file, never a mix (a failed
 * fsync of the directory comes back as a warning: the file is written).  Nothing
 * here logs: failures come back as MXF_E* with a one-line message that
 * names the file.
 *
 * The lock file is the one place a daemon that cannot write its state can
 * still say so: it holds it open from the start, so a read-only directory
 * or a full disk does not keep it from rewriting the few bytes in it.  It
 * holds one fixed-size record, "PID\nNOTE\n" padded with newlines, where
 * NOTE is empty or why the state file could not be written; `status` reads
 * it (state_file_lock_probe) to tell a dead daemon from a live one.
 */
#ifndef MXF_STATE_FILE_H
#define MXF_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * state_file_write -- replace @path atomically (see above) with the @len
 * bytes of @data, mode 0640.
 * @err     "PATH: cannot STEP: why" on failure.  On success it is empty, or
 *          a warning ("PATH: written, but cannot fsync the directory: ...")
 *          when the directory could not be synced after the rename: the new
 *          file is in place, but a crash may still bring the old one back.
 *          The caller may log it; it is not an error.
 * @return 0 (see @err for the warning); MXF_EIO (the old file, if any, is
 *         untouched and no temporary file is left behind); MXF_ENOMEM.
 */
int state_file_write(const char *path, const char *data, size_t len, char *err, size_t errlen);

/*
 * state_file_write_json -- state_file_write() of @root dumped with the
 * jansson @flags, ending with a newline; @root stays the caller's.
 * @return as state_file_write(); MXF_ENOMEM when it cannot be dumped.
 */
int state_file_write_json(const char *path, const json_t *root, size_t flags, char *err,
			  size_t errlen);

/*
 * state_file_make_parent -- create the directories leading to @path, like
 * `mkdir -p`, mode 0750 for those it creates.  Failures are not reported:
 * the open of @path that follows says what is wrong.
 */
void state_file_make_parent(const char *path);

/*
 * state_file_own_like_dir -- when running as root, give the open file @fd
 * (to be, or being, @path) the owner and group of @path's directory if that
 * directory does not belong to root.  So a state, pins or lock file that an
 * administrator creates by running `once` or `pin` as root in the daemon's
 * /var/lib/mxfailover (owned by the mxfailover user) stays readable and
 * writable for the daemon.  Not root, or a root-owned directory: nothing.
 * @return 0, or an errno value (the caller decides whether that matters).
 */
int state_file_own_like_dir(int fd, const char *path);

/* Size of the record in the lock file (state_file_lock_note). */
#define STATE_FILE_LOCK_RECORD 512

/*
 * state_file_lock_note -- rewrite the record of the lock file @fd, which
 * the caller opened read-write and holds (flock), as this process's pid and
 * @note (NULL or "": none; cut to fit, on a character boundary).  The
 * record always has the same size, so rewriting it needs no new disk space.
 * @return 0, or MXF_EIO (errno kept).
 */
int state_file_lock_note(int fd, const char *note);

/*
 * state_file_lock_probe -- whether some process holds the lock file @path
 * (flock), tested with a shared lock that is released at once (a daemon
 * starting in that very instant may find it taken and exit with "another
 * mxfailover holds the lock").
 * @pid   the holder's pid as its record says, 0 when it has none.
 * @note  its NOTE ("" when none), cut to @notelen.
 * @return 1 held, 0 not held (or no lock file), MXF_EIO when it cannot be
 *         tested (not readable by us: @note says why).
 */
int state_file_lock_probe(const char *path, long *pid, char *note, size_t notelen);

/*
 * A streak of failed state saves, so the caller logs the first failure of
 * a streak and its end, not every round.  Zero-initialise.
 */
struct state_file_streak {
	bool failing;		/* the last save failed */
	unsigned long failures; /* saves failed in the current (or last) streak */
};

/* What state_file_streak_note() asks the caller to log. */
enum state_file_streak_say {
	STATE_FILE_SAY_NOTHING,
	STATE_FILE_SAY_FAILING,	  /* a streak of failures begins: log the error */
	STATE_FILE_SAY_RECOVERED, /* a streak ended: log that it works again */
};

/*
 * state_file_streak_note -- account one save attempt of outcome @ok in @s.
 * Pure.  @return what to log.
 */
enum state_file_streak_say state_file_streak_note(struct state_file_streak *s, bool ok);

#endif
