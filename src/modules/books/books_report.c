/*
 * books/books_report.c -- the books' reports (books.h).
 *
 * STUB until the reports are built: every report query is refused.
 */
#include "modules/books/books.h"

int books_report_query(hanse_view *v, const char *name, json_t *params, json_t **result,
                       hanse_reject *rej) {
  (void)v;
  (void)params;
  *result = NULL;
  return hanse_reject_code(rej, "books.not_built", 501, "report '%s' is not built yet", name);
}
