/*
 * dns_keyfile.h -- TSIG keys from BIND key files.
 *
 * The format is what `tsig-keygen` writes and BIND keeps in session.key:
 *   key "NAME" { algorithm hmac-sha256; secret "BASE64"; };
 * with //, # and C comments, several keys per file.  A key file that group
 * or others may access is refused, as ssh refuses a private key with an
 * open mode.  No message quotes the secret.
 */
#ifndef MXF_DNS_KEYFILE_H
#define MXF_DNS_KEYFILE_H

#include <stddef.h>

#include "dns_tsig.h"

/*
 * dns_keyfile_load -- read a BIND key file.
 * @path    the file; it must not be accessible by group or others.
 * @want    the key name to pick (with or without trailing dot), or NULL for
 *          the first key of the file.
 * @out     on success a new key the caller frees with dns_tsig_key_free().
 * @err     receives a message for the user on failure: "PATH:LINE: ..."
 *          for syntax errors, the path and a chmod hint for an open mode.
 * @return 0, MXF_EIO (unreadable), MXF_EPERM (mode & 077), MXF_EINVAL
 *         (malformed, unknown algorithm, bad base64, key not found),
 *         MXF_ETOOBIG (file over 64 KiB), MXF_ENOMEM.
 */
int dns_keyfile_load(const char *path, const char *want, struct dns_tsig_key **out,
		     char *err, size_t errlen);

/*
 * dns_keyfile_parse -- as dns_keyfile_load, from text in memory, without
 * the permission check; @fname labels error messages.
 */
int dns_keyfile_parse(const char *text, size_t len, const char *fname, const char *want,
		      struct dns_tsig_key **out, char *err, size_t errlen);

#endif
