/*
 * state_file.c -- atomic replaces of the files kept between runs (they
 * are read with file_read()), the record in the lock file, and the
 * streak of failed saves; see state_file.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mxf.h"
#include "state_file.h"

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
	if (errlen)
		err[0] = '\0';
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
	step = "chown";
	en = state_file_own_like_dir(fd, path);
	if (en)
		goto fail;
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
	/* The rename is durable only once the directory is synced.  The new
	 * data is in place already: a failure here is a warning, not an error. */
	int dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		snprintf(err, errlen,
			 "%s: written, but cannot fsync the directory: %s "
			 "(a crash may bring the old file back)",
			 path, strerror(errno));
	if (dfd >= 0)
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

int state_file_write_json(const char *path, const json_t *root, size_t flags, char *err,
			  size_t errlen)
{
	char *text = json_dumps(root, flags);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return MXF_ENOMEM;
	}
	/* The newline takes the place of the NUL. */
	size_t len = strlen(text);
	text[len] = '\n';
	int e = state_file_write(path, text, len + 1, err, errlen);
	free(text);
	return e;
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

int state_file_own_like_dir(int fd, const char *path)
{
	if (geteuid() != 0)
		return 0;
	char *dircopy = strdup(path);
	if (!dircopy)
		return ENOMEM;
	struct stat dst, fst;
	int en = 0;
	if (stat(dirname(dircopy), &dst) != 0)
		en = errno;
	else if (dst.st_uid != 0 && fstat(fd, &fst) == 0 &&
		 (fst.st_uid != dst.st_uid || fst.st_gid != dst.st_gid) &&
		 fchown(fd, dst.st_uid, dst.st_gid) != 0)
		en = errno;
	free(dircopy);
	return en;
}

int state_file_lock_note(int fd, const char *note)
{
	char rec[STATE_FILE_LOCK_RECORD];
	int n = snprintf(rec, sizeof(rec), "%ld\n", (long)getpid());
	size_t len = (size_t)n, room = sizeof(rec) - 1 - (size_t)n;
	if (note && note[0]) {
		size_t k = strlen(note);
		if (k > room - 1) {
			k = room - 1;
			/* Do not split a UTF-8 character. */
			while (k > 0 && ((unsigned char)note[k] & 0xC0) == 0x80)
				k--;
		}
		for (size_t i = 0; i < k; i++)
			rec[len++] = note[i] == '\n' ? ' ' : note[i];
	}
	memset(rec + len, '\n', sizeof(rec) - len);
	const char *p = rec;
	size_t left = sizeof(rec);
	off_t off = 0;
	while (left) {
		ssize_t w = pwrite(fd, p, left, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return MXF_EIO;
		p += w;
		off += w;
		left -= (size_t)w;
	}
	return 0;
}

int state_file_lock_probe(const char *path, long *pid, char *note, size_t notelen)
{
	*pid = 0;
	if (notelen)
		note[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(note, notelen, "cannot open the lock file %s: %s", path, strerror(errno));
		return MXF_EIO;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		(void)flock(fd, LOCK_UN);
		close(fd);
		return 0;
	}
	if (errno != EWOULDBLOCK) {
		snprintf(note, notelen, "cannot test the lock %s: %s", path, strerror(errno));
		close(fd);
		return MXF_EIO;
	}
	char rec[STATE_FILE_LOCK_RECORD + 1];
	ssize_t n;
	do
		n = pread(fd, rec, STATE_FILE_LOCK_RECORD, 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return 1;
	rec[n] = '\0';
	char *end = NULL;
	long v = strtol(rec, &end, 10);
	if (end != rec && *end == '\n' && v > 0) {
		*pid = v;
		char *nl = strchr(end + 1, '\n');
		if (nl)
			*nl = '\0';
		snprintf(note, notelen, "%s", end + 1);
	}
	return 1;
}

enum state_file_streak_say state_file_streak_note(struct state_file_streak *s, bool ok)
{
	if (!ok) {
		bool was = s->failing;
		if (!was)
			s->failures = 0;
		s->failing = true;
		s->failures++;
		return was ? STATE_FILE_SAY_NOTHING : STATE_FILE_SAY_FAILING;
	}
	if (s->failing) {
		s->failing = false;
		return STATE_FILE_SAY_RECOVERED;
	}
	return STATE_FILE_SAY_NOTHING;
}
