/*
 * trace_class.c -- which data class an event belongs to.
 *
 * The chain's read policy speaks of data classes (PERMISSIONS.md); an
 * EPCIS event is one of four, decided from its business step and fields,
 * first rule that holds:
 *
 *   customs_inspection  the bizStep, or any bizTransaction type or value,
 *                       source/destination, disposition, or extension
 *                       field name or value mentions "customs" (a
 *                       customs authority's own vocabulary: CBV has no
 *                       customs step), e.g. inspecting at a border post
 *                       with {"type":"customs_declaration",...}
 *   transport           bizStep shipping, receiving, departing, arriving,
 *                       transporting, loading, unloading, storing,
 *                       staging_outbound, picking, stocking, stock_taking,
 *                       cycle_counting, consigning, collecting,
 *                       entering_exiting, void_shipping
 *   transaction         bizStep accepting, retail_selling, dispensing,
 *                       reserving, holding; a custom bizStep naming an
 *                       order, sale, purchase, invoice or payment; and a
 *                       TransactionEvent whose bizStep is none of the
 *                       transport steps
 *   production          everything else: commissioning, packing,
 *                       unpacking, assembling, disassembling, encoding,
 *                       inspecting, sampling, repairing, installing,
 *                       removing, decommissioning, destroying,
 *                       creating_class_instance, repackaging, replacing,
 *                       killing, sensor_reporting, other; and every
 *                       TransformationEvent without a transport step
 *
 * The class is decided once, at capture, and stored with the event: a
 * later change of this table does not move history between classes.
 */
#include <ctype.h>
#include <string.h>

#include "modules/trace/trace.h"

static const char *const transport_steps[] = {
    "shipping",  "receiving",  "departing",     "arriving",       "transporting",
    "loading",   "unloading",  "storing",       "staging_outbound", "picking",
    "stocking",  "stock_taking", "cycle_counting", "consigning",   "collecting",
    "entering_exiting", "void_shipping", NULL};
static const char *const transaction_steps[] = {"accepting", "retail_selling", "dispensing",
                                                "reserving", "holding", NULL};

static int in(const char *const *l, const char *w) {
  for (size_t i = 0; w && l[i]; i++)
    if (strcmp(l[i], w) == 0) return 1;
  return 0;
}

static int mentions(const char *s, const char *word) {
  if (s == NULL) return 0;
  size_t n = strlen(word);
  for (const char *p = s; *p; p++) {
    size_t i = 0;
    while (i < n && p[i] && tolower((unsigned char)p[i]) == word[i]) i++;
    if (i == n) return 1;
  }
  return 0;
}

/* Any key or string value in the tree mentions "customs". */
static int tree_mentions_customs(json_t *j, int depth) {
  if (depth > 16) return 0;
  if (json_is_string(j)) return mentions(json_string_value(j), "customs");
  const char *k;
  json_t *v;
  size_t i;
  if (json_is_object(j)) {
    json_object_foreach(j, k, v) {
      if (strcmp(k, "@context") == 0) continue;
      if (mentions(k, "customs") || tree_mentions_customs(v, depth + 1)) return 1;
    }
  } else if (json_is_array(j)) {
    json_array_foreach(j, i, v) if (tree_mentions_customs(v, depth + 1)) return 1;
  }
  return 0;
}

const char *trace_event_class(json_t *ev) {
  const char *raw = json_string_value(json_object_get(ev, "bizStep"));
  const char *step = trace_vocab_word(TRACE_VOCAB_BIZSTEP, raw);
  const char *type = json_string_value(json_object_get(ev, "type"));
  if (tree_mentions_customs(ev, 0)) return "customs_inspection";
  if (in(transport_steps, step)) return "transport";
  if (in(transaction_steps, step)) return "transaction";
  if (step == NULL && raw != NULL &&
      (mentions(raw, "order") || mentions(raw, "sale") || mentions(raw, "sell") ||
       mentions(raw, "purchas") || mentions(raw, "invoic") || mentions(raw, "pay")))
    return "transaction";
  if (type && strcmp(type, "TransactionEvent") == 0) return "transaction";
  return "production";
}
