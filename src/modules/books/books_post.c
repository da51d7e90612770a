/*
 * books/books_post.c -- booking business transactions (books.h).
 *
 * STUB: the interface other modules call while the books are built; it
 * books nothing yet.
 */
#include "modules/books/books.h"

int books_post(ledger_book *b, const books_event *ev) {
  (void)b;
  (void)ev;
  return HANSE_OK;
}

int books_post_side(ledger_book *b, const char *owner, books_role role, const char *type,
                    const char *counterparty, const char *asset, uint64_t amount,
                    const char *ref, const char *memo) {
  (void)b;
  (void)owner;
  (void)role;
  (void)type;
  (void)counterparty;
  (void)asset;
  (void)amount;
  (void)ref;
  (void)memo;
  return HANSE_OK;
}
