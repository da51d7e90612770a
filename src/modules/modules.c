/*
 * modules.c -- the one place that knows which modules ship. Adding a
 * module: a folder under src/modules/, and one line here.
 */
#include "chain/module.h"

extern const hanse_module hanse_module_asset;
extern const hanse_module hanse_module_notary;
extern const hanse_module hanse_module_member;
extern const hanse_module hanse_module_seal;
extern const hanse_module hanse_module_xchain;
extern const hanse_module hanse_module_trace;
extern const hanse_module hanse_module_ledger;
extern const hanse_module hanse_module_order;
extern const hanse_module hanse_module_token;
extern const hanse_module hanse_module_fx;
extern const hanse_module hanse_module_clearing;
extern const hanse_module hanse_module_books;
extern const hanse_identity hanse_member_identity;

void hanse_modules_register_all(void) {
  static int done;
  if (done) return;
  done = 1;
  hanse_registry_add(&hanse_module_asset);
  hanse_registry_add(&hanse_module_notary);
  hanse_registry_add(&hanse_module_member);
  hanse_registry_add(&hanse_module_seal);
  hanse_registry_add(&hanse_module_xchain);
  hanse_registry_add(&hanse_module_trace);
  hanse_registry_add(&hanse_module_ledger);
  hanse_registry_add(&hanse_module_order);
  hanse_registry_add(&hanse_module_token);
  hanse_registry_add(&hanse_module_fx);
  hanse_registry_add(&hanse_module_clearing);
  hanse_registry_add(&hanse_module_books);
  hanse_registry_set_identity(&hanse_member_identity);
}
