/*
 * trace_vocab.c -- the CBV 2.0 vocabularies and their three spellings.
 *
 * A business step, disposition, business transaction type, source or
 * destination type, error reason, sensor component, alert type or
 * measurement type from the standard may arrive as a bare word
 * ("shipping", the JSON-LD compact form the GS1 context defines), as its
 * web URI ("https://ref.gs1.org/cbv/BizStep-shipping"; measurement and
 * alert types live under "https://gs1.org/voc/"), or, from EPCIS 1.x
 * habits, as a URN ("urn:epcglobal:cbv:bizstep:shipping"). We store and
 * query the bare word, and hash the web URI, so the three spellings of
 * one event are one event. A value that is none of the standard's words
 * (a company's own URI) is kept as it came.
 *
 * The word lists are those of the GS1 JSON-LD context modules in
 * tests/vectors/epcis/context/ (cbv-context-*.jsonld,
 * gs1-context-*.jsonld), copied in the order given there.
 */
#include <stdio.h>
#include <string.h>

#include "modules/trace/trace.h"

static const char *const vocab_bizstep[] = {
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
    "creating_class_instance", "cycle_counting", "decommissioning", "departing",
    "destroying", "disassembling", "dispensing", "encoding", "entering_exiting",
    "holding", "inspecting", "installing", "killing", "loading", "other", "packing",
    "picking", "receiving", "removing", "repackaging", "repairing", "replacing",
    "reserving", "retail_selling", "sampling", "sensor_reporting", "shipping",
    "staging_outbound", "stock_taking", "stocking", "storing", "transporting",
    "unloading", "unpacking", "void_shipping", NULL};
static const char *const vocab_disposition[] = {
    "active", "available", "completeness_verified", "completeness_inferred", "conformant",
    "container_closed", "container_open", "damaged", "destroyed", "dispensed", "disposed",
    "encoded", "expired", "in_progress", "in_transit", "inactive", "mismatch_instance",
    "mismatch_class", "mismatch_quantity", "needs_replacement", "no_pedigree_match",
    "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
    "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen",
    "unavailable", "unknown", NULL};
static const char *const vocab_btt[] = {
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma",
    "testprd", "testres", "upevt", NULL};
static const char *const vocab_sdt[] = {
    "owning_party", "possessing_party", "location", NULL};
static const char *const vocab_er[] = {
    "did_not_occur", "incorrect_data", NULL};
static const char *const vocab_comp[] = {
    "x", "y", "z", "axial_distance", "azimuth", "height", "spherical_radius",
    "polar_angle", "elevation_angle", "easting", "northing", "latitude", "longitude",
    "altitude", NULL};
static const char *const vocab_alert[] = {
    "ALARM_CONDITION", "ERROR_CONDITION", NULL};
static const char *const vocab_measurement[] = {
    "AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration",
    "Radioactivity", "Altitude", "AmountOfSubstance", "AmountOfSubstancePerUnitVolume",
    "Angle", "AngularAcceleration", "AngularMomentum", "AngularVelocity", "Area",
    "Capacitance", "Conductance", "Conductivity", "Count", "Density", "Dimensionless",
    "DoseEquivalent", "DoseEquivalentRate", "DynamicViscosity", "ElectricCharge",
    "ElectricCurrent", "ElectricCurrentDensity", "ElectricFieldStrength", "Energy",
    "Exposure", "Force", "Frequency", "Illuminance", "Inductance", "Irradiance",
    "KinematicViscosity", "Length", "LinearMomentum", "Luminance", "LuminousFlux",
    "LuminousIntensity", "MagneticFlux", "MagneticFluxDensity", "MagneticVectorPotential",
    "Mass", "MassConcentration", "MassFlowRate", "MassPerAreaTime", "MemoryCapacity",
    "MolalityOfSolute", "MolarEnergy", "MolarMass", "MolarVolume", "Power", "Pressure",
    "RadiantFlux", "RadiantIntensity", "RelativeHumidity", "Resistance", "Resistivity",
    "SolidAngle", "SpecificVolume", "Speed", "SurfaceDensity", "SurfaceTension",
    "Temperature", "Time", "Torque", "Voltage", "Volume", "VolumeFlowRate",
    "VolumeFraction", "VolumetricFlux", "Wavenumber", NULL};

typedef struct vocab_def {
  const char *const *words;
  const char *web;   /* prefix of the web URI */
  const char *urn;   /* prefix of the EPCIS 1.x URN, or NULL */
} vocab_def;

static const vocab_def vocabs[] = {
    [TRACE_VOCAB_BIZSTEP] = {vocab_bizstep, "https://ref.gs1.org/cbv/BizStep-",
                             "urn:epcglobal:cbv:bizstep:"},
    [TRACE_VOCAB_DISP] = {vocab_disposition, "https://ref.gs1.org/cbv/Disp-",
                          "urn:epcglobal:cbv:disp:"},
    [TRACE_VOCAB_BTT] = {vocab_btt, "https://ref.gs1.org/cbv/BTT-", "urn:epcglobal:cbv:btt:"},
    [TRACE_VOCAB_SDT] = {vocab_sdt, "https://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:"},
    [TRACE_VOCAB_ER] = {vocab_er, "https://ref.gs1.org/cbv/ER-", "urn:epcglobal:cbv:er:"},
    [TRACE_VOCAB_COMP] = {vocab_comp, "https://ref.gs1.org/cbv/Comp-", NULL},
    [TRACE_VOCAB_ALERT] = {vocab_alert, "https://gs1.org/voc/", NULL},
    [TRACE_VOCAB_MEASUREMENT] = {vocab_measurement, "https://gs1.org/voc/", NULL},
};

static const char *find_word(const char *const *words, const char *w) {
  for (size_t i = 0; words[i]; i++)
    if (strcmp(words[i], w) == 0) return words[i];
  return NULL;
}

const char *trace_vocab_word(trace_vocab v, const char *value) {
  if (value == NULL) return NULL;
  const vocab_def *d = &vocabs[v];
  const char *w = value;
  size_t wl = strlen(d->web);
  if (strncmp(value, d->web, wl) == 0) w = value + wl;
  else if (d->urn && strncmp(value, d->urn, strlen(d->urn)) == 0) w = value + strlen(d->urn);
  /* measurement and alert types may also come as gs1: CURIEs */
  else if (strncmp(value, "gs1:", 4) == 0 &&
           (v == TRACE_VOCAB_MEASUREMENT || v == TRACE_VOCAB_ALERT))
    w = value + 4;
  return find_word(d->words, w);
}

const char *trace_vocab_canonical(trace_vocab v, const char *value) {
  const char *w = trace_vocab_word(v, value);
  return w ? w : value;
}

const char *trace_vocab_web(trace_vocab v, const char *value, char *out, size_t n) {
  const char *w = trace_vocab_word(v, value);
  if (w == NULL) {
    snprintf(out, n, "%s", value ? value : "");
    return out;
  }
  snprintf(out, n, "%s%s", vocabs[v].web, w);
  return out;
}
