/*
 * res_query.c -- GET /v1/chains/{c}/query/{module}/{name}?params: a
 * module's named query on a reader connection.
 *
 * Reading needs the read right for the module's data class (auth.c),
 * except a module's self queries: a key may always ask about itself
 * (`key` = the request's signer), and its owner queries: an enterprise's
 * members may always read about their enterprise (`owner` = the
 * signer's organisation, or the signer's own key hex).
 */
#include <string.h>

#include "api/api_internal.h"
#include "chain/exec.h"
#include "chain/module.h"

enum MHD_Result res_query(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (strcmp(rq->method, "GET") != 0) return api_method_not_allowed(rq, "GET");
  if (rest[0] != '/')
    return api_error(rq, 404, "http.not_found", "use /query/{module}/{name}");
  const char *mod = rest + 1;
  const char *slash = strchr(mod, '/');
  if (slash == NULL || slash[1] == 0 || strchr(slash + 1, '/'))
    return api_error(rq, 404, "http.not_found", "use /query/{module}/{name}");
  const hanse_module *m = hanse_registry_find(mod, (size_t)(slash - mod));
  const char *name = slash + 1;
  int known = 0;
  if (m && m->query && m->queries)
    for (const char *const *q = m->queries; *q; q++)
      if (strcmp(*q, name) == 0) known = 1;
  if (!known)
    return api_error(rq, 404, "query.unknown", "no query '%.*s/%.64s'", (int)(slash - mod > 32 ? 32 : slash - mod),
                     mod, name);
  int self = 0;
  if (m->self_queries)
    for (const char *const *q = m->self_queries; *q; q++)
      if (strcmp(*q, name) == 0) self = api_signed_by(rq, nc, api_param(rq, "key"));
  if (m->owner_queries)
    for (const char *const *q = m->owner_queries; *q && !self; q++)
      if (strcmp(*q, name) == 0) self = api_signed_for_owner(rq, nc, api_param(rq, "owner"));
  enum MHD_Result denied;
  if (!self && !api_read_allowed(rq, nc, m->data_class, &denied)) return denied;
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  hanse_view v = {rd, nc->chain->chain_id};
  json_t *params = api_params_json(rq);
  json_t *result = NULL;
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = m->query(&v, name, params, &result, &rej);
  json_decref(params);
  hanse_chain_reader_release(nc->chain, rd);
  if (rc != HANSE_OK) return api_reject(rq, &rej);
  return api_json(rq, 200, result);
}
