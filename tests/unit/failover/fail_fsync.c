/*
 * fail_fsync.c -- fsync() for the failover tests: see fail_fsync.h.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fail_fsync.h"

bool fail_dir_fsync;

int
fsync(int fd)
{
	struct stat sb;

	if (fail_dir_fsync && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}
