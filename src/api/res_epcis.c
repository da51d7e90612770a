/*
 * res_epcis.c -- the EPCIS 2.0 REST query binding over the trace module.
 *
 *   GET /v1/chains/{c}/epcis/events                  events, filtered
 *   GET /v1/chains/{c}/epcis/epcs/{epc}/events       MATCH_anyEPC={epc}
 *   GET /v1/chains/{c}/epcis/eventTypes              the types captured
 *   GET /v1/chains/{c}/epcis/eventTypes/{t}/events   eventType={t}
 *   GET /v1/chains/{c}/epcis/epcs/{epc}/lineage      trace back or forward
 *                                    (?direction=back|forward&maxDepth=N)
 *   GET /v1/chains/{c}/epcis/epcs/{epc}/status       shipment status
 *
 * The query parameters are the binding's (trace_query.c lists them);
 * {epc} is percent-encoded when it is a Digital Link URI. The answer is
 * an EPCISQueryDocument (application/ld+json): the standard's context
 * plus the prefixes of the events' own extensions, and
 * epcisBody.queryResults.resultsBody.eventList in capture order. More
 * results: a `Link: <...&nextPageToken=T>; rel="next"` header, as the
 * binding defines; perPage sets the page size (default 30, at most 500).
 *
 * Reading: each event has its own data class (production, transaction,
 * customs_inspection, transport), so the read policy is applied event by
 * event: the node finds once which classes the request may read
 * (api_read_classes: public classes, and the signer's roles' classes),
 * and the module leaves out every event of another class. A request that
 * may read none of the four gets the policy's answer for production: 401
 * without a signature, 403 policy.read_denied for a member without the
 * role.
 *
 * lineage and status are Hanse's, not the binding's: JSON answers
 * (application/json) from trace_lineage.c and trace_status.c, built from
 * the same readable events only.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "chain/exec.h"
#include "chain/module.h"
#include "encoding/json_real.h"

#define EPCIS_CONTEXT "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

static const char *const trace_classes[] = {"production", "transaction", "customs_inspection",
                                            "transport"};

/* The readable trace classes as a JSON array; NULL when there is none. */
static json_t *readable_classes(hanse_req *rq, hanse_node_chain *nc) {
  static const char *const all[] = {HANSE_DATA_CLASSES};
  unsigned mask = api_read_classes(rq, nc);
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < sizeof all / sizeof all[0]; i++) {
    if (!(mask & (1u << i))) continue;
    for (size_t k = 0; k < 4; k++)
      if (strcmp(all[i], trace_classes[k]) == 0) json_array_append_new(arr, json_string(all[i]));
  }
  if (arr && json_array_size(arr) == 0) {
    json_decref(arr);
    return NULL;
  }
  return arr;
}

/* The request target with nextPageToken set to `token`. malloc'd. */
static char *next_url(hanse_req *rq, const char *token) {
  const char *target = rq->uri ? rq->uri : rq->url;
  size_t n = strlen(target);
  char *out = malloc(n + 64);
  if (out == NULL) return NULL;
  const char *q = strchr(target, '?');
  size_t o = q ? (size_t)(q - target) : n;
  memcpy(out, target, o);
  char sep = '?';
  if (q) { /* keep every parameter but an old token */
    const char *p = q + 1;
    while (*p) {
      const char *amp = strchr(p, '&');
      size_t len = amp ? (size_t)(amp - p) : strlen(p);
      if (!(len >= 14 && strncmp(p, "nextPageToken=", 14) == 0) && len > 0) {
        out[o++] = sep;
        sep = '&';
        memcpy(out + o, p, len);
        o += len;
      }
      p += len + (amp ? 1 : 0);
    }
  }
  snprintf(out + o, n + 64 - o, "%cnextPageToken=%s", sep, token);
  return out;
}

/* The query document around the module's result in text mode: the
 * envelope by jansson, the event list spliced in as the module cut it
 * from the store (trace_query.c) -- the bytes dumping the parsed events
 * would give, without parsing them. */
static enum MHD_Result query_document(hanse_req *rq, json_t *result) {
  static const char body_open[] = ",\"epcisBody\":{\"queryResults\":{\"queryName\":"
                                  "\"SimpleEventQuery\",\"resultsBody\":{\"eventList\":[";
  static const char body_close[] = "]}}}}";
  json_t *ctx = json_array();
  json_array_append_new(ctx, json_string(EPCIS_CONTEXT));
  json_t *prefixes = json_object_get(result, "prefixes");
  if (json_object_size(prefixes) > 0) json_array_append(ctx, prefixes);
  char now[32];
  time_t t = (time_t)(hanse_now_ms(rq->node->env) / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *doc = json_pack("{s:o, s:s, s:s, s:s}", "@context", ctx, "type",
                          "EPCISQueryDocument", "schemaVersion", "2.0", "creationDate", now);
  const char *token = json_string_value(json_object_get(result, "nextPageToken"));
  char *link = NULL;
  if (token) {
    char *url = next_url(rq, token);
    if (url) {
      size_t n = strlen(url) + 16;
      link = malloc(n);
      if (link) snprintf(link, n, "<%s>; rel=\"next\"", url);
      free(url);
    }
  }
  char *head = doc ? hanse_json_dumps_exact(doc, JSON_COMPACT) : NULL;
  json_decref(doc);
  hanse_buf out;
  hanse_buf_init(&out);
  json_t *events = json_object_get(result, "eventText");
  if (head && head[0] && events) {
    hanse_buf_put(&out, head, strlen(head) - 1); /* less its closing brace */
    hanse_buf_put(&out, body_open, sizeof body_open - 1);
    hanse_buf_put(&out, json_string_value(events), json_string_length(events));
    hanse_buf_put(&out, body_close, sizeof body_close - 1);
  }
  free(head);
  json_decref(result);
  size_t len = out.len;
  char *text = out.len && hanse_buf_status(&out) == HANSE_OK ? (char *)hanse_buf_steal(&out, NULL)
                                                             : NULL;
  hanse_buf_free(&out);
  if (text == NULL) {
    free(link);
    return api_error(rq, 500, "internal.nomem", "out of memory");
  }
  struct MHD_Response *resp =
      MHD_create_response_from_buffer_with_free_callback(len, text, free);
  if (resp == NULL) {
    free(text);
    free(link);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/ld+json");
  MHD_add_response_header(resp, "GS1-EPCIS-Version", "2.0.0");
  MHD_add_response_header(resp, "GS1-CBV-Version", "2.0.0");
  if (link) MHD_add_response_header(resp, "Link", link);
  free(link);
  return api_respond(rq, 200, resp);
}

enum MHD_Result api_trace_query(hanse_req *rq, hanse_node_chain *nc, const char *name,
                                json_t *params, json_t **result) {
  *result = NULL;
  const hanse_module *m = hanse_registry_find("trace", 5);
  if (m == NULL || m->query == NULL) {
    json_decref(params);
    return api_error(rq, 404, "http.not_found", "this node has no trace module");
  }
  hanse_store *rd = hanse_chain_reader_acquire(nc->chain);
  if (rd == NULL) {
    json_decref(params);
    return api_error_rc(rq, HANSE_ERR(IO), "cannot open a reader");
  }
  hanse_view v = {rd, nc->chain->chain_id};
  hanse_reject rej;
  hanse_reject_clear(&rej);
  int rc = m->query(&v, name, params, result, &rej);
  json_decref(params);
  hanse_chain_reader_release(nc->chain, rd);
  if (rc != HANSE_OK) return api_reject(rq, &rej);
  return MHD_YES; /* nothing queued yet: the caller answers */
}

/* The request's parameters plus "readable"; NULL when the request may
 * read none of the trace classes or memory ran out, the answer then in
 * *r. */
static json_t *params_readable(hanse_req *rq, hanse_node_chain *nc, enum MHD_Result *r) {
  json_t *readable = readable_classes(rq, nc);
  if (readable == NULL) {
    if (!api_read_allowed(rq, nc, "production", r)) return NULL;
    readable = json_array(); /* allowed after all (cannot happen): read nothing */
  }
  json_t *params = api_params_json(rq);
  if (params == NULL || readable == NULL) {
    json_decref(params);
    json_decref(readable);
    *r = api_error(rq, 500, "internal.nomem", "out of memory");
    return NULL;
  }
  json_object_set_new(params, "readable", readable); /* never the caller's */
  return params;
}

/* /epcs/{epc}/lineage and /epcs/{epc}/status: the module query `name`. */
static enum MHD_Result item_query(hanse_req *rq, hanse_node_chain *nc, const char *name,
                                  const char *epc) {
  enum MHD_Result r;
  json_t *params = params_readable(rq, nc, &r);
  if (params == NULL) return r;
  if (json_object_get(params, "epc"))
    return json_decref(params),
           api_error(rq, 400, "trace.bad_query", "epc is given by the path already");
  json_object_set_new(params, "epc", json_string(epc));
  json_t *result;
  r = api_trace_query(rq, nc, name, params, &result);
  if (result == NULL) return r;
  json_t *prefixes = json_object_get(result, "prefixes");
  if (prefixes) { /* the events' extensions, as in a query document */
    json_t *ctx = json_pack("[s]", EPCIS_CONTEXT);
    if (json_object_size(prefixes) > 0) json_array_append(ctx, prefixes);
    json_object_set_new(result, "@context", ctx);
    json_object_del(result, "prefixes");
  }
  return api_json(rq, 200, result);
}

static enum MHD_Result events(hanse_req *rq, hanse_node_chain *nc, const char *param,
                              const char *value) {
  enum MHD_Result denied;
  json_t *params = params_readable(rq, nc, &denied);
  if (params == NULL) return denied;
  if (param) {
    if (json_object_get(params, param))
      return json_decref(params),
             api_error(rq, 400, "trace.bad_query", "%s is given by the path already", param);
    json_object_set_new(params, param, json_string(value));
  }
  json_object_set_new(params, "text", json_true()); /* events as text, query_document */
  json_t *result;
  enum MHD_Result r = api_trace_query(rq, nc, "epcis.events", params, &result);
  if (result == NULL) return r;
  return query_document(rq, result);
}

/* GET /epcis/publication?epc=ITEM[|LINEAGE...]: the entries a publication
 * of these identifiers would carry (trace_product.c), of the classes the
 * caller may read -- what a publisher signs and sends. */
static enum MHD_Result publication(hanse_req *rq, hanse_node_chain *nc) {
  json_t *readable = readable_classes(rq, nc);
  if (readable == NULL) {
    enum MHD_Result denied;
    if (!api_read_allowed(rq, nc, "production", &denied)) return denied;
    readable = json_array();
  }
  json_t *params = api_params_json(rq);
  if (params == NULL || readable == NULL) {
    json_decref(params);
    json_decref(readable);
    return api_error(rq, 500, "internal.nomem", "out of memory");
  }
  const char *k;
  json_t *val;
  json_object_foreach(params, k, val) {
    if (strcmp(k, "epc") != 0) {
      json_decref(readable);
      enum MHD_Result r =
          api_error(rq, 400, "trace.bad_query", "unknown parameter %.64s (only epc)", k);
      json_decref(params);
      return r;
    }
  }
  json_object_set_new(params, "readable", readable);
  json_t *result;
  enum MHD_Result r = api_trace_query(rq, nc, "epcis.publication", params, &result);
  if (result == NULL) return r;
  return api_json(rq, 200, result);
}

enum MHD_Result res_epcis(hanse_req *rq, hanse_node_chain *nc, const char *rest) {
  if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
    return api_method_not_allowed(rq, "GET");
  if (strcmp(rest, "/events") == 0) return events(rq, nc, NULL, NULL);
  if (strcmp(rest, "/publication") == 0) return publication(rq, nc);
  if (strcmp(rest, "/eventTypes") == 0) {
    /* which types exist is not an event: any reader of a trace class */
    json_t *readable = readable_classes(rq, nc);
    if (readable == NULL) {
      enum MHD_Result denied;
      if (!api_read_allowed(rq, nc, "production", &denied)) return denied;
    }
    json_decref(readable);
    json_t *result;
    enum MHD_Result r = api_trace_query(rq, nc, "epcis.eventTypes", json_object(), &result);
    if (result == NULL) return r;
    json_t *types = json_incref(json_object_get(result, "eventTypes"));
    json_decref(result);
    return api_json(rq, 200,
                    json_pack("{s:[s], s:s, s:o}", "@context", EPCIS_CONTEXT, "type",
                              "Collection", "member", types ? types : json_array()));
  }
  const char *epcs = "/epcs/", *types = "/eventTypes/", *tail = "/events";
  size_t rl = strlen(rest), tl = strlen(tail);
  static const char *const item_tails[][2] = {{"/lineage", "epcis.lineage"},
                                              {"/status", "epcis.status"}};
  for (size_t i = 0; i < 2 && strncmp(rest, epcs, strlen(epcs)) == 0; i++) {
    size_t il = strlen(item_tails[i][0]), el = rl - strlen(epcs);
    if (el <= il || strcmp(rest + rl - il, item_tails[i][0]) != 0) continue;
    char epc[600];
    if (el - il >= sizeof epc)
      return api_error(rq, 400, "trace.bad_query", "the identifier is too long");
    memcpy(epc, rest + strlen(epcs), el - il);
    epc[el - il] = 0;
    return item_query(rq, nc, item_tails[i][1], epc);
  }
  const char *prefix = strncmp(rest, epcs, strlen(epcs)) == 0      ? epcs
                       : strncmp(rest, types, strlen(types)) == 0 ? types
                                                                  : NULL;
  if (prefix && rl > strlen(prefix) + tl && strcmp(rest + rl - tl, tail) == 0) {
    size_t vl = rl - strlen(prefix) - tl;
    char value[600];
    if (vl >= sizeof value)
      return api_error(rq, 400, "trace.bad_query", "the identifier is too long");
    memcpy(value, rest + strlen(prefix), vl);
    value[vl] = 0;
    return events(rq, nc, prefix == epcs ? "MATCH_anyEPC" : "eventType", value);
  }
  return api_error(rq, 404, "http.not_found",
                   "use /epcis/events, /epcis/epcs/{epc}/events|lineage|status, "
                   "/epcis/eventTypes");
}
