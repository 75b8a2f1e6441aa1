/*
 * state_file.c -- bounded reads and atomic replaces of the files kept
 * between runs; see state_file.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxf.h"
#include "state_file.h"

int state_file_read(const char *path, size_t max, char **bufp, size_t *lenp, char *err,
		    size_t errlen)
{
	int e = 0;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int en = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(en));
		return en == ENOENT ? MXF_ENOTFOUND : MXF_EIO;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		e = MXF_EIO;
		goto out;
	}
	if ((uint64_t)sb.st_size > max) {
		snprintf(err, errlen, "%s: larger than %zu bytes, refused", path, max);
		e = MXF_ETOOBIG;
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		e = MXF_ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	size_t len = 0;
	for (;;) {
		if (len == (size_t)sb.st_size + 1) {
			/* Grew while we read: a writer not using rename. */
			snprintf(err, errlen, "%s: changed while being read", path);
			e = MXF_EIO;
			goto out;
		}
		ssize_t n = read(fd, buf + len, (size_t)sb.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
			e = MXF_EIO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return e;
}

/* Write all of @data to @fd; @return 0 or an errno value. */
static int state_file_write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_file_write(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
	char *tmp = NULL, *dircopy = strdup(path);
	if (!dircopy || asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		free(dircopy);
		snprintf(err, errlen, "%s: out of memory", path);
		return MXF_ENOMEM;
	}
	const char *step = "create a temporary file";
	int en = 0;
	bool created = false;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		en = errno;
		goto fail;
	}
	created = true;
	step = "chmod";
	if (fchmod(fd, 0640) != 0) {
		en = errno;
		goto fail;
	}
	step = "write";
	en = state_file_write_all(fd, data, len);
	if (en)
		goto fail;
	step = "fsync";
	if (fsync(fd) != 0) {
		en = errno;
		goto fail;
	}
	step = "close";
	int fdc = fd;
	fd = -1;
	if (close(fdc) != 0) {
		en = errno;
		goto fail;
	}
	step = "rename";
	if (rename(tmp, path) != 0) {
		en = errno;
		goto fail;
	}
	created = false;
	/* The rename is durable only once the directory is synced. */
	step = "fsync the directory";
	int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		en = errno;
		if (dfd >= 0)
			close(dfd);
		goto fail;
	}
	close(dfd);
	free(tmp);
	free(dircopy);
	return 0;
fail:
	snprintf(err, errlen, "%s: cannot %s: %s", path, step, strerror(en));
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	free(tmp);
	free(dircopy);
	return MXF_EIO;
}

void state_file_make_parent(const char *path)
{
	char *dir = strdup(path);
	if (!dir)
		return;
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			(void)mkdir(dir, 0750);
			*p = '/';
		}
		(void)mkdir(dir, 0750);
	}
	free(dir);
}
