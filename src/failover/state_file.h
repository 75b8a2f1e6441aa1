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
 */
#ifndef MXF_STATE_FILE_H
#define MXF_STATE_FILE_H

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

#endif
