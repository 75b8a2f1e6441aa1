/*
 * quorum_impl.h -- what quorum.c and quorum_view.c share and nobody else
 * calls: the checks the tracker makes once at creation and the record
 * format makes on every write.
 */
#ifndef MXF_QUORUM_IMPL_H
#define MXF_QUORUM_IMPL_H

#include <stdbool.h>
#include <stddef.h>

/* True when @s (@len bytes) is QUORUM_BOOT_LEN lower-case hex digits. */
bool quorum_boot_valid(const char *s, size_t len);

/* True when server id @id can stand in a record: non-empty, without '='
 * (the record splits at the first one), "<id>=unknown" within 255 bytes. */
bool quorum_server_id_valid(const char *id);

#endif
