/*
 * trace_xml.c -- an EPCIS 2.0 XML document in the JSON-LD form the module
 * takes.
 *
 * trace.capture accepts {"xml": "<epcis:EPCISDocument ...>"} beside
 * {"document": {...}}: the XML text is what the signer signed and stays in
 * the transaction; every node converts it here, in check, verify and
 * apply alike, and the rest of the module (rules, hash IDs, storage,
 * queries) sees only the JSON form. So the conversion is a pure function
 * of the bytes: no network, no clock, no locale, no file, keys in document
 * order, prefixes chosen by first use.
 *
 * The mapping is the standard's JSON/JSON-LD binding, as the twins in
 * tests/vectors/epcis show (xml/X.xml beside examples/X.jsonld):
 *
 *   <epcis:EPCISDocument schemaVersion creationDate>   {"@context", "type":
 *     <EPCISBody><EventList>                          "EPCISDocument",
 *       <ObjectEvent>...                              "schemaVersion", ...
 *                                                     "epcisBody": {"eventList": [...]}}
 *   <epcisq:EPCISQueryDocument> with <EPCISBody>      "epcisBody": {"queryResults":
 *     <epcisq:QueryResults> queryName subscriptionID    {"queryName", "subscriptionID",
 *     <resultsBody><EventList>                          "resultsBody": {"eventList"}}}
 *   <ObjectEvent> (any of the five)                   {"type": "ObjectEvent", ...}
 *   <eventTime>T</eventTime> and the other leaves     "eventTime": "T"
 *   <epcList><epc>A</epc>...</epcList>, childEPCs,    "epcList": ["A", ...]
 *     inputEPCList, outputEPCList; correctiveEventIDs
 *   <quantityList><quantityElement> epcClass          "quantityList": [{"epcClass",
 *     quantity uom (and child/input/output lists)       "quantity": <number>, "uom"}]
 *   <readPoint><id>X</id></readPoint>, bizLocation    "readPoint": {"id": "X"}
 *   <bizTransaction type="T">X</bizTransaction>       {"type": "T", "bizTransaction": "X"}
 *   <source type="T">X</source>, destination          {"type": "T", "source": "X"}
 *   <persistentDisposition><set>D</set><unset>..      {"set": ["D"], "unset": [...]}
 *   <sensorElement><sensorMetadata a="..."/>          {"sensorMetadata": {"a": ...},
 *     <sensorReport .../>...                            "sensorReport": [{...}, ...]}
 *   <errorDeclaration> declarationTime reason         {"declarationTime", "reason",
 *     correctiveEventIDs                                "correctiveEventIDs": [...]}
 *   <ilmd> and extension elements: <ex:f>v</ex:f>     "ex:f": "v", and "ex" in @context
 *   <extension>, <baseExtension> (EPCIS 1.x wrappers) their content, in place
 *
 * Extensions (elements and attributes in a namespace): the key is
 * "prefix:local" and the @context gains {"prefix": "<namespace URI>"},
 * with the prefix the document used first for that namespace -- or
 * "ns1", "ns2", ... when it has none, another namespace has it, or some
 * value of the document starts with it: "example:x" is a URI in XML and
 * must not become a compact IRI in JSON-LD. Values starting "gs1:" or
 * "cbv:", the standard context's own prefixes, are written out as the
 * URIs they stand for (as GS1's hash reference reads XML). An
 * extension element with only text is a string -- a number or a boolean
 * when xsi:type says xsd:integer, xsd:decimal, xsd:double, xsd:float or
 * xsd:boolean -- with child elements or attributes an object (its text,
 * if any, then under "#text"), xsi:nil="true" null; one repeated is an
 * array in document order. Unqualified elements inside an extension keep
 * their local name. Quantities and the numeric sensor attributes (value,
 * minValue, maxValue, meanValue, sDev, percRank, percValue) become JSON
 * numbers (integers when written without fraction or exponent),
 * booleanValue a boolean; a value that is not a number stays a string, so
 * the rules reject it with their own code, as for JSON. Text is trimmed
 * of leading and trailing white space (the schema's anyURI and dateTime
 * collapse it). EPCISHeader (master data, SBDH) is not converted: the
 * module keeps events only, and the signed XML keeps everything.
 *
 * Checked against GS1's twins (test_trace_xml.c: the same events after
 * normalisation, the same hash IDs) and the hash reference's XML
 * documents (test_trace_rules.c: its hash IDs and pre-hash strings).
 *
 * Safety: libxml2 parses from memory with XML_PARSE_NONET and without
 * XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_DTDATTR: no external
 * entity, DTD or URL is ever fetched, no entity is substituted. A DOCTYPE
 * may name the root (GS1's examples write `<!DOCTYPE project>`) but must
 * declare nothing; namespace errors are errors; the text is at most
 * HANSE_PAYLOAD_MAX bytes (it travels in a payload of that bound) and
 * read as UTF-8 whatever its declaration says (it arrives as a JSON
 * string); nesting is bounded by TRACE_XML_DEPTH_MAX. Every rejection is
 * trace.bad_xml (400) with the line: "line 12: ...".
 */
#include <errno.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "modules/trace/trace.h"

#define NS_EPCIS "urn:epcglobal:epcis:xsd:2"
#define NS_QUERY "urn:epcglobal:epcis-query:xsd:2"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define NS_XSD "http://www.w3.org/2001/XMLSchema"
#define EPCIS_CONTEXT_URL "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

/* ---- what the standard's elements become --------------------------------- */

typedef enum kind {
  K_TEXT,   /* a string */
  K_NUMBER, /* a number (a string if it is none); xsi:nil: left out */
  K_OBJECT, /* an object of its child elements (sub) and extensions */
  K_ATTRS,  /* an object of its attributes, typed (the sensor elements) */
  K_LIST,   /* an array of its `item` children, each as `sub[0]` says */
  K_PAIR,   /* {"type": @type, <name>: text} */
} kind;

typedef struct field {
  const char *name;
  kind k;
  int repeat;              /* may occur more than once: an array */
  const struct field *sub; /* K_OBJECT: the known children; K_LIST: the item */
} field;

#define F_END {NULL, K_TEXT, 0, NULL}

static const field f_epc[] = {{"epc", K_TEXT, 0, NULL}, F_END};
static const field f_quantity[] = {
    {"epcClass", K_TEXT, 0, NULL}, {"quantity", K_NUMBER, 0, NULL}, {"uom", K_TEXT, 0, NULL},
    F_END};
static const field f_quantity_item[] = {{"quantityElement", K_OBJECT, 0, f_quantity}, F_END};
static const field f_place[] = {{"id", K_TEXT, 0, NULL}, F_END};
static const field f_corrective[] = {{"correctiveEventID", K_TEXT, 0, NULL}, F_END};
static const field f_declaration[] = {{"declarationTime", K_TEXT, 0, NULL},
                                      {"reason", K_TEXT, 0, NULL},
                                      {"correctiveEventIDs", K_LIST, 0, f_corrective},
                                      F_END};
static const field f_pd[] = {{"set", K_TEXT, 1, NULL}, {"unset", K_TEXT, 1, NULL}, F_END};
static const field f_element[] = {{"sensorMetadata", K_ATTRS, 0, NULL},
                                  {"sensorReport", K_ATTRS, 1, NULL}, F_END};
static const field f_element_item[] = {{"sensorElement", K_OBJECT, 0, f_element}, F_END};
static const field f_btx[] = {{"bizTransaction", K_PAIR, 0, NULL}, F_END};
static const field f_source[] = {{"source", K_PAIR, 0, NULL}, F_END};
static const field f_destination[] = {{"destination", K_PAIR, 0, NULL}, F_END};
static const field f_none[] = {F_END};

static const field f_event[] = {
    {"eventTime", K_TEXT, 0, NULL},
    {"recordTime", K_TEXT, 0, NULL},
    {"eventTimeZoneOffset", K_TEXT, 0, NULL},
    {"eventID", K_TEXT, 0, NULL},
    {"errorDeclaration", K_OBJECT, 0, f_declaration},
    {"certificationInfo", K_TEXT, 0, NULL},
    {"parentID", K_TEXT, 0, NULL},
    {"epcList", K_LIST, 0, f_epc},
    {"childEPCs", K_LIST, 0, f_epc},
    {"inputEPCList", K_LIST, 0, f_epc},
    {"outputEPCList", K_LIST, 0, f_epc},
    {"quantityList", K_LIST, 0, f_quantity_item},
    {"childQuantityList", K_LIST, 0, f_quantity_item},
    {"inputQuantityList", K_LIST, 0, f_quantity_item},
    {"outputQuantityList", K_LIST, 0, f_quantity_item},
    {"action", K_TEXT, 0, NULL},
    {"transformationID", K_TEXT, 0, NULL},
    {"bizStep", K_TEXT, 0, NULL},
    {"disposition", K_TEXT, 0, NULL},
    {"persistentDisposition", K_OBJECT, 0, f_pd},
    {"readPoint", K_OBJECT, 0, f_place},
    {"bizLocation", K_OBJECT, 0, f_place},
    {"bizTransactionList", K_LIST, 0, f_btx},
    {"sourceList", K_LIST, 0, f_source},
    {"destinationList", K_LIST, 0, f_destination},
    {"sensorElementList", K_LIST, 0, f_element_item},
    {"ilmd", K_OBJECT, 0, f_none},
    F_END};

static const char *const event_types[] = {"ObjectEvent",         "AggregationEvent",
                                          "TransactionEvent",    "TransformationEvent",
                                          "AssociationEvent",    "QuantityEvent",
                                          NULL};

/* The sensor attributes that are numbers; booleanValue is a boolean. */
static const char *const number_attrs[] = {"value", "minValue", "maxValue", "meanValue",
                                           "sDev",  "percRank", "percValue", NULL};

/* ---- the conversion's state and its two ways to fail ---------------------- */

typedef struct conv {
  json_t *prefixes; /* prefix -> namespace URI: the @context entry */
  json_t *by_ns;    /* namespace URI -> prefix */
  json_t *taken;    /* value schemes: never a prefix (values_taken) */
  hanse_reject *rej;
  int rc;           /* HANSE_OK, or the failure rej describes: stop */
} conv;

/* trace.bad_xml at n's line. Returns NULL for `return bad(...)`. */
__attribute__((format(printf, 3, 4))) static json_t *bad(conv *c, const xmlNode *n,
                                                         const char *fmt, ...) {
  if (c->rc != HANSE_OK) return NULL;
  char msg[HANSE_REJECT_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->rc = hanse_reject_code(c->rej, "trace.bad_xml", 400, "line %ld: %s",
                            n ? xmlGetLineNo(n) : 0L, msg);
  return NULL;
}

static json_t *oom(conv *c) {
  if (c->rc == HANSE_OK) c->rc = hanse_reject_set(c->rej, HANSE_ERR(NOMEM), "out of memory");
  return NULL;
}

static int is_named(const xmlNode *n, const char *ns, const char *name) {
  if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name) != 0) return 0;
  if (ns == NULL) return n->ns == NULL;
  return n->ns != NULL && strcmp((const char *)n->ns->href, ns) == 0;
}

static int is_xsi(const xmlAttr *a) {
  return a->ns != NULL && strcmp((const char *)a->ns->href, NS_XSI) == 0;
}

/* The value of xsi:<name> on n, or NULL. Borrowed from the tree. */
static const char *xsi_attr(const xmlNode *n, const char *name) {
  for (const xmlAttr *a = n->properties; a; a = a->next)
    if (is_xsi(a) && strcmp((const char *)a->name, name) == 0 && a->children &&
        a->children->type == XML_TEXT_NODE)
      return (const char *)a->children->content;
  return NULL;
}

static int is_nil(const xmlNode *n) {
  const char *v = xsi_attr(n, "nil");
  return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

static int xml_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* The first element child of n with that namespace (NULL: none) and name. */
static const xmlNode *child(const xmlNode *n, const char *ns, const char *name) {
  for (const xmlNode *k = n->children; k; k = k->next)
    if (is_named(k, ns, name)) return k;
  return NULL;
}

/* ---- names ----------------------------------------------------------------- */

/* The JSON-LD prefix of a namespace: the document's first prefix for it,
 * unless another namespace has that one already or a value starts with
 * it (values_taken), else "ns<k>". Borrowed
 * from c->by_ns; NULL when out of memory. */
static const char *prefix_for(conv *c, const xmlNs *ns) {
  const char *href = (const char *)ns->href;
  const char *p = json_string_value(json_object_get(c->by_ns, href));
  if (p) return p;
  char gen[32];
  const char *want = (const char *)ns->prefix;
  if (want == NULL || want[0] == 0 || json_object_get(c->prefixes, want) != NULL ||
      json_object_get(c->taken, want) != NULL) {
    for (int k = 1;; k++) {
      snprintf(gen, sizeof gen, "ns%d", k);
      if (json_object_get(c->prefixes, gen) == NULL && json_object_get(c->taken, gen) == NULL)
        break;
    }
    want = gen;
  }
  if (json_object_set_new(c->prefixes, want, json_string(href)) != 0 ||
      json_object_set_new(c->by_ns, href, json_string(want)) != 0)
    return NULL;
  return json_string_value(json_object_get(c->by_ns, href));
}

/* The schemes of the document's values ("example" of a sensorReport
 * type="example:x"; "urn", "https") go into c->taken. In XML such a value
 * is a URI and stays one; in JSON-LD a value "p:x" whose p the @context
 * declares is read as a compact IRI and expanded. So no namespace gets a
 * prefix that some value starts with: it becomes "ns<k>" instead. */
static void value_taken(conv *c, const xmlChar *v) {
  while (v && xml_space((char)*v)) v++;
  size_t k = 0;
  while (v && v[k] && v[k] != ':' && !xml_space((char)v[k]) && k < 64) k++;
  if (v == NULL || v[k] != ':' || k == 0) return;
  char scheme[65];
  memcpy(scheme, v, k);
  scheme[k] = 0;
  if (json_object_set_new(c->taken, scheme, json_true()) != 0) oom(c);
}

static void values_taken(conv *c, const xmlNode *n, int depth) {
  for (; n && c->rc == HANSE_OK; n = n->next) {
    if (n->type == XML_TEXT_NODE) value_taken(c, n->content);
    if (n->type != XML_ELEMENT_NODE) continue;
    if (depth > TRACE_XML_DEPTH_MAX + 8) {
      bad(c, n, "elements nested deeper than %d", TRACE_XML_DEPTH_MAX);
      return;
    }
    for (const xmlAttr *a = n->properties; a; a = a->next)
      if (a->children && a->children->type == XML_TEXT_NODE) value_taken(c, a->children->content);
    values_taken(c, n->children, depth + 1);
  }
}

/* "prefix:local" for a name in a namespace, else "local"; into out[n].
 * NULL on failure (c->rc set). */
static const char *key_of(conv *c, const xmlNs *ns, const xmlChar *local, char *out, size_t n,
                          const xmlNode *where) {
  const char *p = "";
  if (ns != NULL && ns->href != NULL && (p = prefix_for(c, ns)) == NULL) return oom(c), NULL;
  int w = snprintf(out, n, "%s%s%s", p, p[0] ? ":" : "", (const char *)local);
  if (w < 0 || (size_t)w >= n) {
    bad(c, where, "the name '%.60s' is too long", (const char *)local);
    return NULL;
  }
  return out;
}

/* ---- text and typed values ------------------------------------------------- */

/* s without leading and trailing XML white space: the end cut in place,
 * the start returned. */
static char *trim(char *s) {
  size_t end = strlen(s);
  while (end > 0 && xml_space(s[end - 1])) end--;
  s[end] = 0;
  while (xml_space(*s)) s++;
  return s;
}

/* The text of n (its text children), malloc'd into *out (free it) and
 * *start, its trimmed part; *elements = 1 if n has element children.
 * *out NULL on failure (c->rc set). */
static void text_of(conv *c, const xmlNode *n, char **out, char **start, int *elements) {
  hanse_buf b;
  hanse_buf_init(&b);
  *elements = 0;
  *out = NULL;
  for (const xmlNode *k = n->children; k; k = k->next) {
    if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
      if (k->content) hanse_buf_put(&b, k->content, strlen((const char *)k->content));
    } else if (k->type == XML_ELEMENT_NODE) {
      *elements = 1;
    } else if (k->type == XML_ENTITY_REF_NODE || k->type == XML_ENTITY_NODE) {
      hanse_buf_free(&b);
      bad(c, k, "entity references are not accepted");
      return;
    }
  }
  hanse_buf_put(&b, "", 1);
  if (hanse_buf_status(&b) != HANSE_OK) {
    hanse_buf_free(&b);
    oom(c);
    return;
  }
  *out = (char *)hanse_buf_steal(&b, NULL);
  *start = trim(*out);
}

/* A string value, with the standard context's two prefixes written out
 * ("gs1:Temperature" is https://gs1.org/voc/Temperature, "cbv:BizStep-
 * receiving" https://ref.gs1.org/cbv/BizStep-receiving) as the JSON-LD
 * context reads them and GS1's hash reference does for XML; other
 * CURIE-like values stay as they are (values_taken). */
static json_t *string_of(const char *s) {
  static const char *const from[] = {"gs1:", "cbv:"};
  static const char *const to[] = {"https://gs1.org/voc/", "https://ref.gs1.org/cbv/"};
  for (int i = 0; i < 2; i++)
    if (strncmp(s, from[i], 4) == 0) {
      char full[TRACE_URI_MAX];
      int w = snprintf(full, sizeof full, "%s%s", to[i], s + 4);
      if (w > 0 && (size_t)w < sizeof full) return json_string(full);
    }
  return json_string(s);
}

/* A number in the XML Schema's decimal/double lexical form (not INF or
 * NaN): an integer when written without fraction or exponent and within
 * 64 bits, else a real; NULL if s is none. */
static json_t *number_of(const char *s) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  size_t digits = 0;
  int integral = 1;
  while (*p >= '0' && *p <= '9') p++, digits++;
  if (*p == '.') {
    integral = 0;
    p++;
    while (*p >= '0' && *p <= '9') p++, digits++;
  }
  if (digits == 0) return NULL;
  if (*p == 'e' || *p == 'E') {
    integral = 0;
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9')) return NULL;
    while (*p >= '0' && *p <= '9') p++;
  }
  if (*p != 0) return NULL;
  if (integral) {
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == 0) return json_integer((json_int_t)v);
  }
  double d = strtod(s, NULL);
  return isfinite(d) ? json_real(d) : NULL;
}

static json_t *boolean_of(const char *s) {
  if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0) return json_true();
  if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0) return json_false();
  return NULL;
}

/* A leaf's value by its xsi:type when that is an XML Schema number or
 * boolean type and the text fits it, else the string. */
static json_t *typed_leaf(const xmlNode *n, const char *text) {
  static const char *const numeric[] = {
      "integer", "int", "long", "short", "byte", "decimal", "double", "float",
      "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
      "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", NULL};
  const char *t = xsi_attr(n, "type");
  json_t *v = NULL;
  if (t) {
    const char *colon = strchr(t, ':');
    xmlChar *prefix = colon ? xmlStrndup((const xmlChar *)t, (int)(colon - t)) : NULL;
    const xmlNs *ns = xmlSearchNs(n->doc, (xmlNode *)n, prefix);
    xmlFree(prefix);
    const char *local = colon ? colon + 1 : t;
    if (ns && strcmp((const char *)ns->href, NS_XSD) == 0) {
      for (int i = 0; numeric[i] && v == NULL; i++)
        if (strcmp(local, numeric[i]) == 0) v = number_of(text);
      if (strcmp(local, "boolean") == 0) v = boolean_of(text);
    }
  }
  return v ? v : string_of(text);
}

/* ---- objects ------------------------------------------------------------------ */

/* obj[key] = v (stolen; NULL means out of memory). A repeated extension
 * becomes an array in document order; a standard field twice is an
 * error. */
static void put(conv *c, json_t *obj, const char *key, json_t *v, int repeatable,
                const xmlNode *where) {
  if (v == NULL) {
    oom(c);
    return;
  }
  json_t *old = json_object_get(obj, key);
  if (old == NULL) {
    if (json_object_set_new(obj, key, v) != 0) oom(c);
    return;
  }
  if (!repeatable) {
    json_decref(v);
    bad(c, where, "'%.80s' appears twice", key);
    return;
  }
  if (!json_is_array(old)) { /* an extension value is never an array itself */
    json_t *arr = json_pack("[O]", old);
    if (arr == NULL || json_object_set_new(obj, key, arr) != 0) {
      json_decref(v);
      oom(c);
      return;
    }
    old = arr;
  }
  if (json_array_append_new(old, v) != 0) oom(c);
}

/* The attributes of n (but xsi: ones; namespace declarations are not
 * attributes in libxml2) into obj; the sensor attributes typed when
 * `sensor`. */
static void put_attrs(conv *c, const xmlNode *n, json_t *obj, int sensor) {
  for (const xmlAttr *a = n->properties; a && c->rc == HANSE_OK; a = a->next) {
    if (is_xsi(a)) continue;
    char key[TRACE_URI_MAX];
    if (key_of(c, a->ns, a->name, key, sizeof key, n) == NULL) return;
    xmlChar *raw = xmlNodeListGetString(n->doc, a->children, 1);
    const char *s = raw ? trim((char *)raw) : "";
    json_t *v = NULL;
    if (sensor && a->ns == NULL) {
      for (int i = 0; number_attrs[i] && v == NULL; i++)
        if (strcmp((const char *)a->name, number_attrs[i]) == 0) v = number_of(s);
      if (strcmp((const char *)a->name, "booleanValue") == 0) v = boolean_of(s);
    }
    if (v == NULL) v = string_of(s);
    xmlFree(raw);
    put(c, obj, key, v, 0, n);
  }
}

static const field *find_field(const field *table, const xmlNode *n) {
  for (const field *f = table; f && f->name; f++)
    if (is_named(n, NULL, f->name)) return f;
  return NULL;
}

static json_t *standard(conv *c, const xmlNode *n, const field *f, int depth);
static json_t *extension(conv *c, const xmlNode *n, int depth);

/* The element children of n into obj: the known ones by `table` (NULL:
 * none), the unqualified "extension" and "baseExtension" wrappers of EPCIS
 * 1.x flattened when `wrappers`, every other one as an extension. */
static void put_children(conv *c, const xmlNode *n, json_t *obj, const field *table,
                         int wrappers, int depth) {
  if (depth > TRACE_XML_DEPTH_MAX) {
    bad(c, n, "elements nested deeper than %d", TRACE_XML_DEPTH_MAX);
    return;
  }
  for (const xmlNode *k = n->children; k && c->rc == HANSE_OK; k = k->next) {
    if (k->type != XML_ELEMENT_NODE) continue;
    if (wrappers && (is_named(k, NULL, "extension") || is_named(k, NULL, "baseExtension"))) {
      put_children(c, k, obj, table, wrappers, depth + 1);
      continue;
    }
    const field *f = find_field(table, k);
    if (f && f->k == K_NUMBER && is_nil(k)) continue;
    if (f && f->repeat) {
      json_t *arr = json_object_get(obj, f->name);
      if (arr == NULL) put(c, obj, f->name, arr = json_array(), 0, k);
      else if (!json_is_array(arr)) bad(c, k, "'%s' appears twice", f->name);
      json_t *v = c->rc == HANSE_OK ? standard(c, k, f, depth + 1) : NULL;
      if (v && json_array_append_new(arr, v) != 0) oom(c);
    } else if (f) {
      json_t *v = standard(c, k, f, depth + 1);
      if (v) put(c, obj, f->name, v, 0, k);
    } else {
      char key[TRACE_URI_MAX];
      if (key_of(c, k->ns, k->name, key, sizeof key, k) == NULL) return;
      json_t *v = extension(c, k, depth + 1);
      if (v) put(c, obj, key, v, 1, k);
    }
  }
}

/* An element of the standard, as its field says. New reference, or NULL
 * on failure (c->rc set). */
static json_t *standard(conv *c, const xmlNode *n, const field *f, int depth) {
  char *buf, *text;
  int elements;
  text_of(c, n, &buf, &text, &elements);
  if (buf == NULL) return NULL;
  json_t *v = NULL;
  if ((f->k == K_TEXT || f->k == K_NUMBER || f->k == K_PAIR) && elements) {
    bad(c, n, "<%s> holds text only", f->name);
  } else if ((f->k == K_OBJECT || f->k == K_ATTRS || f->k == K_LIST) && text[0]) {
    bad(c, n, "<%s> holds no text", f->name);
  } else if (f->k == K_TEXT || f->k == K_NUMBER) {
    v = f->k == K_NUMBER ? number_of(text) : NULL;
    if (v == NULL && (v = string_of(text)) == NULL) oom(c);
  } else if (f->k == K_PAIR) { /* type="..." first, as the JSON examples write it */
    if ((v = json_object()) == NULL) oom(c);
    else put_attrs(c, n, v, 0);
    if (v) put(c, v, f->name, string_of(text), 0, n);
  } else if (f->k == K_OBJECT || f->k == K_ATTRS) {
    if ((v = json_object()) == NULL) oom(c);
    else put_attrs(c, n, v, f->k == K_ATTRS);
    if (v) put_children(c, n, v, f->k == K_ATTRS ? NULL : f->sub, f->k == K_OBJECT, depth);
  } else { /* K_LIST */
    if ((v = json_array()) == NULL) oom(c);
    for (const xmlNode *k = n->children; k && c->rc == HANSE_OK; k = k->next) {
      if (k->type != XML_ELEMENT_NODE) continue;
      if (!is_named(k, NULL, f->sub->name)) {
        bad(c, k, "<%s> holds only <%s> elements", f->name, f->sub->name);
        break;
      }
      json_t *item = standard(c, k, f->sub, depth + 1);
      if (item && json_array_append_new(v, item) != 0) oom(c);
    }
  }
  free(buf);
  if (c->rc != HANSE_OK) {
    json_decref(v);
    return NULL;
  }
  return v;
}

/* An extension element: a typed leaf, null (xsi:nil), or an object of its
 * attributes, its text ("#text") and its children. New reference, or
 * NULL on failure (c->rc set). */
static json_t *extension(conv *c, const xmlNode *n, int depth) {
  if (depth > TRACE_XML_DEPTH_MAX)
    return bad(c, n, "elements nested deeper than %d", TRACE_XML_DEPTH_MAX);
  if (is_nil(n)) return json_null();
  char *buf, *text;
  int elements;
  text_of(c, n, &buf, &text, &elements);
  if (buf == NULL) return NULL;
  int attrs = 0;
  for (const xmlAttr *a = n->properties; a; a = a->next) attrs += !is_xsi(a);
  json_t *v = NULL;
  if (elements && text[0]) {
    bad(c, n, "mixed content (text beside elements) is not accepted");
  } else if (!elements && !attrs) {
    if ((v = typed_leaf(n, text)) == NULL) oom(c);
  } else if ((v = json_object()) == NULL) {
    oom(c);
  } else {
    put_attrs(c, n, v, 0);
    if (text[0]) put(c, v, "#text", typed_leaf(n, text), 0, n);
    put_children(c, n, v, NULL, 0, depth);
  }
  free(buf);
  if (c->rc != HANSE_OK) {
    json_decref(v);
    return NULL;
  }
  return v;
}

/* ---- the document ------------------------------------------------------------ */

/* The events of an <EventList> (or of a 1.x <extension> in one). */
static json_t *event_list(conv *c, const xmlNode *list, int depth) {
  json_t *events = json_array();
  if (events == NULL) return oom(c);
  for (const xmlNode *k = list->children; k && c->rc == HANSE_OK; k = k->next) {
    if (k->type != XML_ELEMENT_NODE) continue;
    if (depth > TRACE_XML_DEPTH_MAX) {
      bad(c, k, "elements nested deeper than %d", TRACE_XML_DEPTH_MAX);
      break;
    }
    if (is_named(k, NULL, "extension")) { /* <extension><TransformationEvent> */
      json_t *more = event_list(c, k, depth + 1);
      if (more && json_array_extend(events, more) != 0) oom(c);
      json_decref(more);
      continue;
    }
    const char *type = NULL;
    for (int i = 0; event_types[i] && k->ns == NULL; i++)
      if (strcmp((const char *)k->name, event_types[i]) == 0) type = event_types[i];
    char ext[TRACE_URI_MAX];
    if (type == NULL) /* an extension event type: the rules refuse it by name */
      type = key_of(c, k->ns, k->name, ext, sizeof ext, k);
    if (type == NULL) break;
    json_t *ev = standard(c, k, &(field){type, K_OBJECT, 0, f_event}, depth + 1);
    json_t *typed = ev ? json_pack("{s:s}", "type", type) : NULL;
    if (ev && (typed == NULL || json_object_update(typed, ev) != 0 ||
               json_array_append(events, typed) != 0))
      oom(c);
    json_decref(typed);
    json_decref(ev);
  }
  if (c->rc != HANSE_OK) {
    json_decref(events);
    return NULL;
  }
  return events;
}

/* epcisBody: {"eventList": [...]}, or {"queryResults": {...}} for a query
 * document. */
static json_t *body_of(conv *c, const xmlNode *root, int query) {
  static const field f_results[] = {
      {"queryName", K_TEXT, 0, NULL}, {"subscriptionID", K_TEXT, 0, NULL}, F_END};
  const xmlNode *body = child(root, NULL, "EPCISBody");
  if (body == NULL) return bad(c, root, "<EPCISBody> is missing");
  /* QueryResults is epcisq: in the schema; GS1's hash examples leave it
   * unqualified */
  const xmlNode *qr = query ? child(body, NS_QUERY, "QueryResults") : NULL;
  if (query && qr == NULL) qr = child(body, NULL, "QueryResults");
  if (query && qr == NULL)
    return bad(c, body, "an EPCISQueryDocument is captured only with <epcisq:QueryResults>");
  const xmlNode *rb = query ? child(qr, NULL, "resultsBody") : NULL;
  const xmlNode *list = query ? (rb ? child(rb, NULL, "EventList") : NULL)
                              : child(body, NULL, "EventList");
  if (list == NULL) return bad(c, query ? qr : body, "<EventList> is missing");
  json_t *events = event_list(c, list, query ? 4 : 2);
  if (events == NULL) return NULL;
  if (!query) return json_pack("{s:o}", "eventList", events);
  json_t *results = json_object();
  for (const xmlNode *k = qr->children; k && results && c->rc == HANSE_OK; k = k->next) {
    const field *f = find_field(f_results, k);
    json_t *v = f ? standard(c, k, f, 3) : NULL;
    if (v) put(c, results, f->name, v, 0, k);
  }
  if (results == NULL || c->rc != HANSE_OK ||
      json_object_set_new(results, "resultsBody", json_pack("{s:O}", "eventList", events)) != 0) {
    json_decref(results);
    json_decref(events);
    return c->rc == HANSE_OK ? oom(c) : NULL;
  }
  json_decref(events);
  return json_pack("{s:o}", "queryResults", results);
}

/* The document: @context, type, schemaVersion, creationDate, epcisBody. */
static json_t *document_of(conv *c, const xmlNode *root) {
  int query;
  if (is_named(root, NS_EPCIS, "EPCISDocument")) query = 0;
  else if (is_named(root, NS_QUERY, "EPCISQueryDocument")) query = 1;
  else
    return bad(c, root,
               "the root must be EPCISDocument in namespace " NS_EPCIS
               " or EPCISQueryDocument in " NS_QUERY);
  json_t *body = body_of(c, root, query);
  if (body == NULL) return c->rc == HANSE_OK ? oom(c) : NULL;
  json_t *ctx = json_object_size(c->prefixes) > 0
                    ? json_pack("[s, O]", EPCIS_CONTEXT_URL, c->prefixes)
                    : json_string(EPCIS_CONTEXT_URL);
  json_t *doc = json_pack("{s:o, s:s}", "@context", ctx, "type",
                          query ? "EPCISQueryDocument" : "EPCISDocument");
  static const char *const attrs[] = {"schemaVersion", "creationDate"};
  for (int i = 0; doc && i < 2; i++) {
    xmlChar *v = xmlGetNoNsProp(root, (const xmlChar *)attrs[i]);
    if (v && json_object_set_new(doc, attrs[i], json_string(trim((char *)v))) != 0) oom(c);
    xmlFree(v);
  }
  if (doc == NULL || json_object_set_new(doc, "epcisBody", body) != 0 || c->rc != HANSE_OK) {
    if (doc == NULL) json_decref(body);
    json_decref(doc);
    return oom(c);
  }
  return doc;
}

/* ---- parsing ------------------------------------------------------------------ */

/* The parser's first error (the last one is often a consequence: "premature
 * end of data"), kept through the context's structured error hook. */
typedef struct first_error {
  int line;
  char message[160];
} first_error;

static void keep_first_error(void *data, xmlErrorPtr e) {
  xmlParserCtxtPtr ctxt = data;
  first_error *fe = ctxt ? ctxt->_private : NULL;
  if (fe == NULL || fe->message[0] || e == NULL) return;
  fe->line = e->line;
  snprintf(fe->message, sizeof fe->message, "%s", e->message ? e->message : "not well-formed");
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static void xml_init(void) { xmlInitParser(); }

/* A DOCTYPE may name the root (GS1's examples do), and declare nothing. */
static int dtd_ok(const xmlDoc *doc) {
  const xmlDtd *d = doc->intSubset;
  return doc->extSubset == NULL &&
         (d == NULL || (d->children == NULL && d->ExternalID == NULL && d->SystemID == NULL));
}

int trace_xml_to_json(const char *xml, size_t len, json_t **out, hanse_reject *rej) {
  *out = NULL;
  if (len > HANSE_PAYLOAD_MAX)
    return hanse_reject_code(rej, "trace.bad_xml", 400,
                             "line 0: the XML document is %zu bytes, at most %d", len,
                             HANSE_PAYLOAD_MAX);
  if (len >= 3 && memcmp(xml, "\xEF\xBB\xBF", 3) == 0) xml += 3, len -= 3; /* a UTF-8 BOM */
  pthread_once(&xml_once, xml_init);
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == NULL) return hanse_reject_set(rej, HANSE_ERR(NOMEM), "out of memory");
  first_error fe = {0, ""};
  ctxt->_private = &fe;
  ctxt->sax->serror = keep_first_error;
  /* no NOENT, DTDLOAD, DTDATTR, XINCLUDE: nothing is fetched or expanded */
  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
                XML_PARSE_BIG_LINES;
  xmlDocPtr doc = xmlCtxtReadMemory(ctxt, xml, (int)len, NULL, "UTF-8", options);
  int rc;
  if (doc == NULL || !ctxt->nsWellFormed) {
    if (fe.message[0] == 0) snprintf(fe.message, sizeof fe.message, "not well-formed");
    rc = hanse_reject_code(rej, "trace.bad_xml", 400, "line %d: %s", fe.line, trim(fe.message));
  } else if (!dtd_ok(doc)) {
    const char *at = memmem(xml, len, "<!DOCTYPE", 9);
    long line = 1;
    for (const char *p = xml; at && p < at; p++) line += *p == '\n';
    rc = hanse_reject_code(rej, "trace.bad_xml", 400,
                           "line %ld: a DOCTYPE may name the root but declare nothing", line);
  } else if (xmlDocGetRootElement(doc) == NULL) {
    rc = hanse_reject_code(rej, "trace.bad_xml", 400, "line 0: no root element");
  } else {
    conv c = {json_object(), json_object(), json_object(), rej, HANSE_OK};
    if (c.prefixes == NULL || c.by_ns == NULL || c.taken == NULL) oom(&c);
    else values_taken(&c, xmlDocGetRootElement(doc), 0);
    if (c.rc == HANSE_OK) *out = document_of(&c, xmlDocGetRootElement(doc));
    rc = c.rc;
    json_decref(c.prefixes);
    json_decref(c.by_ns);
    json_decref(c.taken);
  }
  xmlFreeDoc(doc);
  xmlFreeParserCtxt(ctxt);
  return rc;
}

int trace_payload_document(json_t *payload, json_t **doc, hanse_reject *rej) {
  *doc = NULL;
  json_t *d = json_object_get(payload, "document");
  json_t *x = json_object_get(payload, "xml");
  if ((d == NULL) == (x == NULL) || json_object_size(payload) != 1)
    return hanse_reject_code(rej, "trace.bad_document", 400,
                             "the payload is {\"document\": <EPCISDocument>} or "
                             "{\"xml\": \"<EPCISDocument ...>\"}, one member");
  if (d) {
    *doc = json_incref(d);
    return HANSE_OK;
  }
  if (!json_is_string(x))
    return hanse_reject_code(rej, "trace.bad_xml", 400,
                             "line 0: \"xml\" must be the document's text");
  return trace_xml_to_json(json_string_value(x), json_string_length(x), doc, rej);
}
