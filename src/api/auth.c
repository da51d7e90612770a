/*
 * auth.c -- who is asking: HTTP Message Signatures on API requests and the
 * chain's read policy.
 */
#include <string.h>

#include "api/api_internal.h"

int api_read_allowed(hanse_req *rq, hanse_node_chain *nc, const char *data_class,
                     enum MHD_Result *resp) {
  (void)rq;
  (void)nc;
  (void)data_class;
  (void)resp;
  return 1; /* TODO(issue 3): signatures and policy.read */
}

int api_upload_allowed(hanse_req *rq, hanse_node_chain *nc, const hanse_hash *body_sha256,
                       hanse_pubkey *signer, enum MHD_Result *resp) {
  (void)rq;
  (void)nc;
  (void)body_sha256;
  (void)resp;
  memset(signer, 0, sizeof *signer); /* TODO(issue 3): signatures */
  return 1;
}
