/*
 * state_file.h -- reading and writing the small files mxfailover keeps
 * between runs (the state file, the pins file): a bounded read of a regular
 * file and an atomic replace.
 *
 * An atomic replace writes a temporary file in the same directory, fsyncs
 * it, renames it over the old file and fsyncs the directory, so a crash at
 * any point leaves either the old or the new file, never a mix.  Nothing
 * here logs: failures come back as MXF_E* with a one-line message that
 * names the file.
 */
#ifndef MXF_STATE_FILE_H
#define MXF_STATE_FILE_H

#include <stddef.h>

/*
 * state_file_read -- all of the regular file @path.
 * @max     a larger file is refused (MXF_ETOOBIG).
 * @buf     on success a malloc'ed copy, NUL-terminated, the caller's to
 *          free; @len its length without the NUL.  Untouched on failure.
 * @err     "PATH: why" on failure.
 * @return 0; MXF_ENOTFOUND when @path does not exist; MXF_EIO when it is
 *         not a regular file, cannot be read or grew while being read;
 *         MXF_ETOOBIG; MXF_ENOMEM.
 */
int state_file_read(const char *path, size_t max, char **buf, size_t *len, char *err,
		    size_t errlen);

/*
 * state_file_write -- replace @path atomically (see above) with the @len
 * bytes of @data, mode 0640.
 * @err     "PATH: cannot STEP: why" on failure.
 * @return 0; MXF_EIO (the old file, if any, is untouched and no temporary
 *         file is left behind); MXF_ENOMEM.
 */
int state_file_write(const char *path, const char *data, size_t len, char *err, size_t errlen);

/*
 * state_file_make_parent -- create the directories leading to @path, like
 * `mkdir -p`, mode 0750 for those it creates.  Failures are not reported:
 * the open of @path that follows says what is wrong.
 */
void state_file_make_parent(const char *path);

#endif
