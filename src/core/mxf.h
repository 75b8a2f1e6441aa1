/*
 * mxf.h -- error codes and exit codes shared by every module.
 *
 * Functions return 0 or a negative MXF_E* value; what a peer said (an SMTP
 * reply code, a DNS rcode) travels in out-parameters, never in this code, so
 * "our code failed" and "the server said no" stay apart.
 */
#ifndef MXF_H
#define MXF_H

#include <stddef.h>
#include <stdint.h>

#define MXF_VERSION_STRING "0.1.0"

enum mxf_error {
	MXF_OK = 0,
	MXF_ENOMEM = -1,      /* allocation failed */
	MXF_EINVAL = -2,      /* bad argument or malformed input */
	MXF_EIO = -3,         /* local I/O error (file, socket setup) */
	MXF_ECONFIG = -4,     /* configuration error; details reported apart */
	MXF_ETIMEDOUT = -5,   /* the peer did not answer in time */
	MXF_ECONNREFUSED = -6,/* the peer refused the connection */
	MXF_ENET = -7,        /* other network error (unreachable, reset) */
	MXF_EPROTO = -8,      /* the peer sent something malformed */
	MXF_ETSIG = -9,       /* a TSIG signature was missing or did not verify */
	MXF_ERCODE = -10,     /* the server answered with an error rcode */
	MXF_EPERM = -11,      /* a file has unsafe permissions */
	MXF_ENOTFOUND = -12,  /* the name, record or zone does not exist */
	MXF_ECONFLICT = -13,  /* compare-and-swap failed: the record changed */
	MXF_EMISMATCH = -14,  /* read-back after an update did not match */
	MXF_ETOOBIG = -15,    /* input exceeded a hard maximum */
	MXF_ECANCELED = -16,  /* the operation was cancelled */
	MXF_EUNSUPPORTED = -17,
};

/* Process exit codes; fixed by SPEC.md. */
enum mxf_exit {
	MXF_EXIT_OK = 0,       /* success, all active servers healthy */
	MXF_EXIT_DEGRADED = 1, /* something is down but service is kept up */
	MXF_EXIT_USAGE = 2,    /* usage or configuration error */
	MXF_EXIT_DNS = 3,      /* a DNS update or query failed */
	MXF_EXIT_ALLDOWN = 4,  /* every server of a group is down */
	MXF_EXIT_LOCKED = 5,   /* another instance holds the lock */
	MXF_EXIT_STALE = 6,    /* `status`: the state file is stale (the daemon
				  is not running, or cannot write its state) */
};

/*
 * mxf_strerror -- a short English phrase for an MXF_E* code.
 * @return a static string, never NULL.
 */
const char *mxf_strerror(int err);

/*
 * mxf_calloc -- calloc(@n, @size), with room for one element when @n is 0,
 * so that NULL always means out of memory (calloc(0, ...) may return NULL).
 * @return zeroed memory the caller frees, or NULL.
 */
void *mxf_calloc(size_t n, size_t size);

#define MXF_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
