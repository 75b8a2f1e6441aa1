/*
 * file.h -- bounded whole-file reads.
 *
 * The daemon reads a few small files whole: the state file, a TSIG key file,
 * an SMTP password file.  Each is a regular file with a known upper size, and
 * those that hold a secret must be readable by their owner alone.  One
 * function opens, checks and reads them, so every such file gets the same
 * size cap, the same refusal of group- or world-accessible secrets and the
 * same messages.
 */
#ifndef MXF_FILE_H
#define MXF_FILE_H

#include <stddef.h>

/* file_read() flags. */
#define FILE_PRIVATE 0x1u /* refuse a file with any group or other mode bits */

/*
 * file_read -- all of the regular file @path, at most @max bytes.
 * @flags   FILE_PRIVATE for a file that holds a secret.
 * @bufp    on success a malloc'ed copy, NUL-terminated, the caller's to free
 *          (and to clear first when it holds a secret); @lenp its length
 *          without the NUL.  Both untouched on failure; what was read by
 *          then is cleared before it is freed.
 * @err     "PATH: why" (or "PATH is accessible by group or others ...") on
 *          failure, never any of the file's content.
 * @return 0; MXF_ENOTFOUND when @path does not exist; MXF_EIO when it cannot
 *         be opened or read, is not a regular file or grew while being read;
 *         MXF_EPERM for a FILE_PRIVATE file with group or other bits;
 *         MXF_ETOOBIG when larger than @max; MXF_ENOMEM.
 */
int file_read(const char *path, size_t max, unsigned flags, char **bufp, size_t *lenp, char *err,
	      size_t errsize);

/*
 * file_read_secret -- file_read() with FILE_PRIVATE of a file that holds a
 * secret the configuration names (a key file, a password file).
 * @label   what the configuration calls the file ("key file"); it starts
 *          the message: "LABEL PATH: why".
 * @bufp    as for file_read(); the caller clears it before it frees it.
 * @return as file_read(), except that a missing file is MXF_EIO like any
 *         other that cannot be opened: the configuration said it exists.
 */
int file_read_secret(const char *label, const char *path, size_t max, char **bufp, size_t *lenp,
		     char *err, size_t errsize);

#endif
