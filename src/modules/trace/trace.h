/*
 * trace.h -- the trace module's parts, shared between its files. Not a
 * public API: the chain and the API reach the module through its
 * function table (trace.c) only.
 *
 * The files, one job each:
 *   trace.c        the module table: check, verify, apply, query
 *   trace_rules.c  the standard's rules for a document and its events
 *   trace_vocab.c  CBV vocabularies: bare words, web URIs, old URNs
 *   trace_time.c   EPCIS timestamps: parse, to UTC milliseconds
 *   trace_dl.c     EPC URNs and Digital Link URIs to one canonical URI
 *   trace_hash.c   the CBV 2.0 event hash ID (pre-hash string, SHA-256)
 *   trace_class.c  the data class of an event, for the read policy
 *   trace_doc.c    a document's events prepared for storage
 *   trace_store.c  state keys and indexes (apply)
 *   trace_query.c  the EPCIS query binding's filters (query)
 *   trace_publish.c  screened records to an open chain (xchain hooks),
 *                  complaints and answers there
 *   trace_product.c  reading them: the draft, a product, purchases
 *   trace_lineage.c  trace back and forward through aggregations and
 *                  transformations (query)
 *   trace_status.c the shipment status of an item from its events
 *   trace_xml.c    EPCIS XML documents in the JSON-LD form (libxml2)
 *
 * Conventions: json_t arguments are borrowed unless a comment says
 * "new reference"; out buffers come with their size; functions that can
 * reject fill a hanse_reject and return its rc.
 */
#ifndef HANSE_TRACE_H
#define HANSE_TRACE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "chain/module.h"
#include "encoding/tx.h"

/* Events in one captured document. A document is one payload, bounded by
 * HANSE_PAYLOAD_MAX (64 KiB); the smallest meaningful event is about 150
 * bytes, so more than 256 could not fit anyway, and the bound keeps the
 * writes of one transaction (about 20 keys per event) bounded. */
#define TRACE_EVENTS_MAX 256
/* Identifiers in one event's lists (epcList, childEPCs, ...), all lists
 * together: each is an index key written at capture. */
#define TRACE_EVENT_EPCS_MAX 1024
/* Any URI or string value we index, hash or compare. EPC URIs are at
 * most about 100 characters; Digital Link URIs a little more. */
#define TRACE_URI_MAX 512
/* "ni:///sha-256;" + 64 hex + "?ver=CBV2.0" and a NUL. */
#define TRACE_HASH_ID_BYTES (14 + 64 + 11 + 1)
/* The longest eventID we accept (a URI). */
#define TRACE_EVENT_ID_MAX 256

/* ---- trace_vocab.c ---------------------------------------------------- */

typedef enum trace_vocab {
  TRACE_VOCAB_BIZSTEP,
  TRACE_VOCAB_DISP,
  TRACE_VOCAB_BTT,
  TRACE_VOCAB_SDT,
  TRACE_VOCAB_ER,
  TRACE_VOCAB_COMP,
  TRACE_VOCAB_ALERT,
  TRACE_VOCAB_MEASUREMENT,
} trace_vocab;

/* The standard word of `value` in vocabulary v ("shipping" for
 * "shipping", "https://ref.gs1.org/cbv/BizStep-shipping" and
 * "urn:epcglobal:cbv:bizstep:shipping"), or NULL when it is not one of
 * the standard's words (a custom URI). Static storage. */
const char *trace_vocab_word(trace_vocab v, const char *value);
/* The canonical form we store and query by: the bare standard word when
 * there is one, else `value` itself (borrowed). */
const char *trace_vocab_canonical(trace_vocab v, const char *value);
/* The web URI of a standard word (the form the event hash uses), into
 * out; `value` itself when it is not a standard word. */
const char *trace_vocab_web(trace_vocab v, const char *value, char *out, size_t n);

/* ---- trace_time.c ----------------------------------------------------- */

/* Parse an RFC 3339 date-time with a zone ("Z" or +hh:mm): 1 and the
 * instant in UTC milliseconds (microseconds rounded half to even, as the
 * hash algorithm does) in *ms, or 0 when malformed. */
int trace_time_parse(const char *s, int64_t *ms);
/* Format UTC milliseconds as "YYYY-MM-DDThh:mm:ss.sssZ" into out[25]. */
void trace_time_format(int64_t ms, char out[25]);
/* 1 if `s` is a zone offset "+hh:mm"/"-hh:mm" in -14:00..+14:00. */
int trace_offset_valid(const char *s);

/* ---- trace_dl.c ------------------------------------------------------- */

/* The canonical GS1 Digital Link URI (https://id.gs1.org/..., the finest
 * identification level, no query) of an EPC URI, EPC class or pattern
 * URI, or Digital Link URI: 1 with it in out, or 0 when `uri` carries no
 * GS1 key we know (out untouched). */
int trace_dl_normalise(const char *uri, char *out, size_t n);
/* The form identifiers are indexed and matched under: the Digital Link
 * form when there is one, else the URI itself; into out. */
const char *trace_id_canonical(const char *uri, char *out, size_t n);
/* The GS1 mod-10 check digit of the digit string k[0..n) (weights 3 and
 * 1 from the right), as a character: the digit a GS1 key of n + 1 digits
 * ends with. */
char trace_gs1_check_digit(const char *k, size_t n);

/* ---- trace_hash.c ----------------------------------------------------- */

/* The prefixes of a document's JSON-LD @context (any form: a string, an
 * array, an object), as a new JSON object prefix -> namespace URI. */
json_t *trace_context_prefixes(json_t *context);
/* The pre-hash string of one event (CBV 2.0 event hash ID algorithm)
 * appended to out; `prefixes` from trace_context_prefixes. */
int trace_prehash(json_t *event, json_t *prefixes, hanse_buf *out);
/* The event hash ID "ni:///sha-256;<hex>?ver=CBV2.0" into out. */
int trace_hash_id(json_t *event, json_t *prefixes, char out[TRACE_HASH_ID_BYTES]);

/* ---- trace_rules.c ---------------------------------------------------- */

/* The event list of an EPCISDocument (epcisBody.eventList) or an
 * EPCISQueryDocument (epcisBody.queryResults.resultsBody.eventList),
 * checked against the standard's rules, each event with
 * trace_rules_event. Borrowed from doc. */
int trace_rules_document(json_t *doc, json_t **events, hanse_reject *rej);
/* One event at `index` of its document. */
int trace_rules_event(json_t *ev, size_t index, hanse_reject *rej);

/* ---- trace_class.c ---------------------------------------------------- */

/* The data class of an event (one of HANSE_DATA_CLASSES): see the table
 * in trace_class.c. Static storage. */
const char *trace_event_class(json_t *ev);

/* ---- trace_xml.c ------------------------------------------------------ */

/* Nesting of elements below the root, extensions included: GS1's deepest
 * example nests 8; a bound keeps the conversion's recursion small. */
#define TRACE_XML_DEPTH_MAX 32

/* The JSON-LD form of an EPCIS 2.0 XML document (EPCISDocument, or
 * EPCISQueryDocument with QueryResults): `len` bytes of UTF-8 text, at
 * most HANSE_PAYLOAD_MAX, not NUL-terminated. New reference in *doc; or
 * trace.bad_xml, its message "line N: ...". Deterministic: every node
 * converts the same bytes to the same document. */
int trace_xml_to_json(const char *xml, size_t len, json_t **doc, hanse_reject *rej);
/* The document of a trace.capture payload, {"document": D} (D itself) or
 * {"xml": "..."} (converted), as a new reference in *doc; else
 * trace.bad_document or trace.bad_xml. */
int trace_payload_document(json_t *payload, json_t **doc, hanse_reject *rej);

/* ---- trace_doc.c ------------------------------------------------------ */

/* One event of a document, ready to be stored. */
typedef struct trace_event {
  json_t *event;        /* owned: normalised, eventID filled in */
  char id[TRACE_EVENT_ID_MAX + 1]; /* its eventID (given or computed) */
  char key[65];         /* hex SHA-256 of the eventID: its state key */
  const char *cls;      /* data class, static */
  int declaration;      /* 1: it carries an errorDeclaration */
  int64_t event_time_ms;
} trace_event;

typedef struct trace_doc {
  trace_event *events;  /* owned */
  size_t count;
  json_t *prefixes;     /* owned: the document's @context prefixes */
} trace_doc;

/* Check the payload {"document": {...}} or {"xml": "..."} (converted by
 * trace_payload_document) and prepare its events: rules,
 * hash IDs, normalised forms, classes; no two events with one eventID.
 * On success *d is filled and owned by the caller (trace_doc_free). */
int trace_doc_prepare(json_t *payload, trace_doc *d, hanse_reject *rej);
void trace_doc_free(trace_doc *d);

/* ---- trace_store.c ---------------------------------------------------- */

typedef struct hanse_exec hanse_exec;
typedef struct hanse_view hanse_view;

/* verify: every event new (or a first declaration). */
int trace_store_verify(hanse_exec *ex, const trace_doc *d, hanse_reject *rej);
/* apply: records, sequence, indexes; the signer and its organisation
 * are ex->tx's. */
int trace_store_apply(hanse_exec *ex, const char *txid_hex, const trace_doc *d);

/* Index names (trace_store.c writes, trace_query.c reads). */
#define TRACE_IX_EPC "epc"       /* epcList, childEPCs */
#define TRACE_IX_PARENT "parent" /* parentID */
#define TRACE_IX_INPUT "input"   /* inputEPCList */
#define TRACE_IX_OUTPUT "output" /* outputEPCList */
#define TRACE_IX_ANY "any"       /* all of the above */
#define TRACE_IX_STEP "step"     /* bizStep */
#define TRACE_IX_DISP "disp"     /* disposition */
#define TRACE_IX_RP "rp"         /* readPoint.id */
#define TRACE_IX_BL "bl"         /* bizLocation.id */
#define TRACE_IX_TYPE "type"     /* eventType */
#define TRACE_IX_BTT "btt"       /* bizTransaction types */
#define TRACE_IX_ORG "org"       /* the capturing signer's organisation */
#define TRACE_IX_ANY_CLASS "anycls" /* epcClass of every quantity list */
#define TRACE_IX_XFORM "xform"   /* transformationID */

/* The key of one index entry, "trace/ix/<name>/<32 hex of SHA-256 of the
 * value>/" followed by the 16-hex sequence when seq is not NULL. */
void trace_ix_key(char *out, size_t n, const char *name, const char *value, const char *seq);

/* ---- trace_query.c ---------------------------------------------------- */

/* The EPCIS events query: params as the REST binding names them (strings,
 * pipe-delimited lists), plus "readable" (an array of the data classes
 * the caller may read, set by the API, never by the caller). New
 * reference in *result: {"eventList": [...], "prefixes": {...},
 * "nextPageToken": "..." when there is more}. */
int trace_query_events(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej);
/* The event types captured on the chain: {"eventTypes": [...]}. */
int trace_query_event_types(hanse_view *v, json_t **result, hanse_reject *rej);

/* ---- trace_publish.c, trace_product.c ------------------------------------ */

/* Entries in one publication: a message must fit an xchain send
 * (XCHAIN_SEND_PAYLOAD_MAX, 16 KiB), so clients split a long record. */
#define TRACE_PUBLISH_MAX 64
/* One screened event's JSON text. */
#define TRACE_PUBLISH_EVENT_TEXT_MAX 8192
/* A complaint's or an answer's text, bytes. */
#define TRACE_TEXT_MAX 2000
/* State keys of this module: "trace/" and a few 64-hex parts. */
#define TRACE_KEY_MAX 256

/* The hooks of the trace.publish message (module.h). */
extern const hanse_message_hooks trace_message_hooks;
/* The publication policy of a chain from its genesis (NULL: defaults):
 * new reference {"classes": [...], "fields": [...]}. */
json_t *trace_publication_policy(json_t *genesis);
/* The publication entry of a stored event record under `policy`, with the
 * capturer's organisation name (may be NULL): new reference in *entry, or
 * trace.declared / trace.not_publishable. */
int trace_publication_entry(json_t *rec, json_t *policy, json_t *org_name, json_t **entry,
                            hanse_reject *rej);
/* The context-free shape of a publication body. */
int trace_publication_check(json_t *body, hanse_reject *rej);
/* trace.complain and trace.answer: the module's entry points for them. */
int trace_complaint_check(const char *action, json_t *p, hanse_reject *rej);
int trace_complaint_verify(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p,
                           hanse_reject *rej);
int trace_complaint_apply(hanse_exec *ex, const hanse_tx *tx, const char *action, json_t *p);
/* The hex SHA-256 of string s into out; returns out. */
char *trace_sha256_hex(char out[HANSE_HASH_HEX_BYTES], const char *s);
/* "trace/ev/<hex SHA-256 of event_id>" into out. */
void trace_event_key(char out[TRACE_KEY_MAX], const char *event_id);
/* The first 32 hex digits of the SHA-256 of value, into out[33]. */
void trace_value_hash(char out[33], const char *value);
/* Queries (trace_product.c): see there. */
int trace_query_publication(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej);
int trace_query_product(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej);
int trace_query_purchases(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej);
/* ---- trace_lineage.c -------------------------------------------------- */

/* Depth of a lineage walk: steps from the item (one aggregation or one
 * transformation each). Four levels of packing and two of processing
 * are common; 32 covers any real chain and bounds a walk through a
 * badly linked one. */
#define TRACE_LINEAGE_DEPTH_DEFAULT 16
#define TRACE_LINEAGE_DEPTH_MAX 32
/* Items in one answer: a recall list of a few pallets of cases. */
#define TRACE_LINEAGE_ITEMS_MAX 1000
/* Event records one walk may load (each one or two row reads): bounds the
 * work of a request as TRACE_QUERY_SCAN_MAX does for /events. */
#define TRACE_LINEAGE_EVENTS_MAX 5000
/* Events naming one identifier that a walk looks at. */
#define TRACE_LINEAGE_ITEM_EVENTS_MAX 1000

/* The lineage of the item `epc` (any spelling; compared in its canonical
 * form, trace_id_canonical): forward 0 traces back (the aggregation
 * parents it was packed into, the inputs of the transformations that
 * made it, recursively), forward 1 traces forward (what was made from it,
 * what it was packed into, and everything else packed there: the recall
 * list). Only events of the classes in `readable` (a JSON array of
 * strings, borrowed) count, and no event that is a declaration or was
 * declared erroneous. max_depth 1..TRACE_LINEAGE_DEPTH_MAX. New reference
 * in *result: {"epc": <canonical>, "direction": "back"|"forward",
 * "items": [{"epc", "depth", "via": "aggregation"|"transformation",
 * "from", "eventID"}], "events": [<the events involved, capture order>],
 * "prefixes": {<their @context prefixes>}, "truncated": bool} --
 * truncated when a bound (depth, items, events) cut the walk short.
 * Rejections: trace.bad_query (400). */
int trace_lineage(hanse_view *v, const char *epc, int forward, json_t *readable, int max_depth,
                  json_t **result, hanse_reject *rej);
/* The module query "epcis.lineage": params {"epc", "direction": "back" |
 * "forward", "maxDepth" (string, optional), "readable"}. */
int trace_query_lineage(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej);

/* ---- trace_status.c --------------------------------------------------- */

/* The shipment status of one item from its events (normalised as stored:
 * CBV words bare), a pure function of them (trace_status.c has the
 * table). New reference: {"status": "none" | "dispatched" | "in_transit"
 * | "arrived" | "delivered", "since": <eventTime> | null, "eventID":
 * <the event that set it> | null, "steps": [{"status", "time",
 * "eventID", "bizStep"?, "bizLocation"?}]} with steps in eventTime order;
 * a step's status is one of the five, or "warehouse_receipt",
 * "customs_inspection", "customs_cleared". NULL only without memory. */
json_t *trace_shipment_status(json_t *events);
/* 1 if the event alone is a `delivered` step by the table (a delivery
 * or acceptance; a receiving at a location the event's own
 * destinationList names, the only dispatch destination one event knows).
 * Pure. The order module releases escrow on such events. */
int trace_event_is_delivery(json_t *event);
/* The module query "epcis.status": params {"epc", "readable"}: the
 * item's readable events and those of the containers it was packed into
 * (from the packing on), through trace_shipment_status, plus "epc". */
int trace_query_status(hanse_view *v, json_t *params, json_t **result, hanse_reject *rej);

#endif
