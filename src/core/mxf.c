/*
 * mxf.c -- the error-code string table, and the calloc every module uses.
 */
#include "mxf.h"

#include <stdlib.h>

const char *
mxf_strerror(int err)
{
	switch (err) {
	case MXF_OK: return "success";
	case MXF_ENOMEM: return "out of memory";
	case MXF_EINVAL: return "invalid argument";
	case MXF_EIO: return "I/O error";
	case MXF_ECONFIG: return "configuration error";
	case MXF_ETIMEDOUT: return "timed out";
	case MXF_ECONNREFUSED: return "connection refused";
	case MXF_ENET: return "network error";
	case MXF_EPROTO: return "malformed reply";
	case MXF_ETSIG: return "TSIG verification failed";
	case MXF_ERCODE: return "server returned an error";
	case MXF_EPERM: return "unsafe file permissions";
	case MXF_ENOTFOUND: return "not found";
	case MXF_ECONFLICT: return "record changed concurrently";
	case MXF_EMISMATCH: return "read-back mismatch";
	case MXF_ETOOBIG: return "too large";
	case MXF_ECANCELED: return "cancelled";
	case MXF_EUNSUPPORTED: return "not supported";
	}
	return "unknown error";
}

void *
mxf_calloc(size_t n, size_t size)
{
	return calloc(n > 0 ? n : 1, size);
}
