/*
 * auth.c -- who is asking: HTTP Message Signatures on API requests and the
 * chain's read policy.
 */
#include "api/api_internal.h"

int api_read_allowed(hanse_req *rq, hanse_node_chain *nc, const char *data_class,
                     enum MHD_Result *resp) {
  (void)rq;
  (void)nc;
  (void)data_class;
  (void)resp;
  return 1; /* TODO(issue 3): signatures and policy.read */
}
