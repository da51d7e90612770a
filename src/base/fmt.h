/*
 * fmt.h -- building keys and rows without snprintf on the hot path.
 *
 * A block of the ledger benchmark builds ~100,000 keys and row fields;
 * through snprintf (format parsing, stdio's string stream) that was ~10 %
 * of the sequencer. These write the same bytes as the snprintf calls they
 * replace ("%s%s...", "%" PRIu64, "%0*" PRIu64), truncating as snprintf
 * does.
 */
#ifndef HANSE_FMT_H
#define HANSE_FMT_H

#include <stddef.h>
#include <stdint.h>

/* v in decimal at p, no NUL: the number of digits (at most 20). */
size_t hanse_fmt_u64(char *p, uint64_t v);
/* v in decimal, zero-padded to at least `width` (<= 20) digits, at p, no
 * NUL: the number of characters. */
size_t hanse_fmt_u64_pad(char *p, uint64_t v, int width);
/* The strings up to a NULL, one after the other, into out (cap >= 1):
 * truncated to cap - 1 bytes and NUL-terminated, as snprintf("%s%s...").
 * Returns the length of the whole (>= cap: truncated). */
size_t hanse_cat(char *out, size_t cap, ...);

#endif
