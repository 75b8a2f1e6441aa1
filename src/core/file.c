/*
 * file.c -- bounded whole-file reads (see file.h).
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxf.h"

/*
 * Open @path and check what it is before anything is read.  @return the
 * descriptor with its size in @size, or a negative MXF_E* with @err set.
 */
static int
file_open_checked(const char *path, size_t max, unsigned flags, size_t *size, char *err,
		  size_t errsize)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int rc;

	if (fd < 0) {
		int en = errno;

		snprintf(err, errsize, "%s: %s", path, strerror(en));
		return en == ENOENT ? MXF_ENOTFOUND : MXF_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "%s: not a regular file", path);
		rc = MXF_EIO;
	} else if ((flags & FILE_PRIVATE) && (st.st_mode & 077) != 0) {
		snprintf(err, errsize,
			 "%s is accessible by group or others (mode %04o); refusing to use it: "
			 "chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		rc = MXF_EPERM;
	} else if ((uint64_t)st.st_size > max) {
		snprintf(err, errsize, "%s: larger than %zu bytes, refused", path, max);
		rc = MXF_ETOOBIG;
	} else {
		*size = (size_t)st.st_size;
		return fd;
	}
	close(fd);
	return rc;
}

int
file_read(const char *path, size_t max, unsigned flags, char **bufp, size_t *lenp, char *err,
	  size_t errsize)
{
	size_t size = 0, len = 0;
	char *buf;
	int fd, rc = 0;

	fd = file_open_checked(path, max, flags, &size, err, errsize);
	if (fd < 0)
		return fd;
	buf = malloc(size + 1);
	if (buf == NULL) {
		snprintf(err, errsize, "%s: out of memory", path);
		close(fd);
		return MXF_ENOMEM;
	}
	/* One byte more than fstat said tells a file that grew while read. */
	for (;;) {
		ssize_t n;

		if (len == size + 1) {
			/* A writer not using rename. */
			snprintf(err, errsize, "%s: changed while being read", path);
			rc = MXF_EIO;
			break;
		}
		n = read(fd, buf + len, size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsize, "%s: read: %s", path, strerror(errno));
			rc = MXF_EIO;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc != 0) {
		explicit_bzero(buf, size + 1);
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
file_read_secret(const char *label, const char *path, size_t max, char **bufp, size_t *lenp,
		 char *err, size_t errsize)
{
	char why[512];
	int rc = file_read(path, max, FILE_PRIVATE, bufp, lenp, why, sizeof(why));

	if (rc != 0)
		snprintf(err, errsize, "%s %s", label, why);
	return rc == MXF_ENOTFOUND ? MXF_EIO : rc;
}
