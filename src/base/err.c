/*
 * err.c -- the string table behind err.h.
 *
 * Codes are part of the public API: clients match on them, so a code is
 * never renamed once shipped; messages may improve freely.
 */
#include "base/err.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *code;
  int status;
  const char *message;
} err_table[HANSE_E_COUNT] = {
#define HANSE_X_TABLE(name, code, status, msg) {code, status, msg},
    HANSE_ERRORS(HANSE_X_TABLE)
#undef HANSE_X_TABLE
};

static int err_index(int rc) {
  int i = -rc;
  if (i < 0 || i >= HANSE_E_COUNT) return HANSE_E_INTERNAL;
  return i;
}

const char *hanse_err_code(int rc) { return err_table[err_index(rc)].code; }
int hanse_err_status(int rc) { return err_table[err_index(rc)].status; }
const char *hanse_err_message(int rc) {
  return err_table[err_index(rc)].message;
}

int hanse_reject_set(hanse_reject *rej, int rc, const char *fmt, ...) {
  if (rej == NULL) return rc;
  rej->rc = rc;
  rej->status = hanse_err_status(rc);
  snprintf(rej->code, sizeof rej->code, "%s", hanse_err_code(rc));
  if (fmt == NULL) {
    snprintf(rej->message, sizeof rej->message, "%s", hanse_err_message(rc));
  } else {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rej->message, sizeof rej->message, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int hanse_reject_vfill(hanse_reject *rej, int rc, const char *code, int status,
                       const char *fmt, va_list ap) {
  if (rej == NULL) return rc;
  rej->rc = rc;
  rej->status = status;
  snprintf(rej->code, sizeof rej->code, "%s", code);
  vsnprintf(rej->message, sizeof rej->message, fmt, ap);
  return rc;
}

int hanse_reject_code(hanse_reject *rej, const char *code, int status,
                      const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = hanse_reject_vfill(rej, HANSE_ERR(INVALID), code, status, fmt, ap);
  va_end(ap);
  return rc;
}

void hanse_reject_prefix(hanse_reject *rej, const char *fmt, ...) {
  if (rej == NULL) return;
  char prefix[128];
  char old[HANSE_REJECT_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, rej->message, sizeof old);
  size_t n = strlen(prefix);
  if (n > sizeof rej->message - 3) n = sizeof rej->message - 3;
  memcpy(rej->message, prefix, n);
  memcpy(rej->message + n, ": ", 2);
  size_t rest = sizeof rej->message - n - 3;
  size_t ol = strnlen(old, sizeof old);
  if (ol > rest) ol = rest;
  memcpy(rej->message + n + 2, old, ol);
  rej->message[n + 2 + ol] = 0;
}

void hanse_reject_clear(hanse_reject *rej) {
  if (rej == NULL) return;
  memset(rej, 0, sizeof *rej);
  rej->status = 200;
  snprintf(rej->code, sizeof rej->code, "ok");
}
