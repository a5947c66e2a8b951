/*
 * envelope.c - the elastic-hal evidence envelope (docs/evidence.md): JSON
 * parsed strictly, the raw evidence and certificate table decoded, the
 * report verified, and the binding recomputed and compared with the
 * hardware's REPORT_DATA.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

/* RFC 4648 section 4, padding required, nothing else allowed. */
static uint8_t *b64_decode(const char *s, size_t *out_len) {
  size_t n = strlen(s);
  if (n % 4) return NULL;
  uint8_t *out = malloc(n / 4 * 3 + 1);
  if (!out) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    int v[4];
    for (int k = 0; k < 4; k++) {
      char ch = s[i + k];
      v[k] = ch >= 'A' && ch <= 'Z'              ? ch - 'A'
             : ch >= 'a' && ch <= 'z'            ? ch - 'a' + 26
             : ch >= '0' && ch <= '9'            ? ch - '0' + 52
             : ch == '+'                         ? 62
             : ch == '/'                         ? 63
             : ch == '=' && i + 4 == n && k >= 2 ? -2
                                                 : -1;
      if (v[k] == -1) goto bad;
    }
    if (v[2] == -2 && v[3] != -2) goto bad;
    if (v[0] < 0 || v[1] < 0) goto bad;
    out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
    if (v[2] >= 0) {
      out[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
      if (v[3] >= 0)
        out[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
      else if (v[2] & 3)
        goto bad; /* non-canonical padding bits */
    } else if (v[1] & 15) {
      goto bad;
    }
  }
  *out_len = o;
  return out;
bad:
  free(out);
  return NULL;
}

/* GUIDs of the SNP certificate table, RFC 4122 byte order (the order of
 * their text); the little-endian "mixed" order is accepted too. */
static const uint8_t GUID_VCEK[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                                      0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
static const uint8_t GUID_VLEK[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                                      0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
static const uint8_t GUID_ASK[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                                     0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
static const uint8_t GUID_ARK[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                                     0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};

static bool guid_is(const uint8_t *g, const uint8_t *want) {
  if (memcmp(g, want, 16) == 0) return true;
  const uint8_t mixed[16] = {want[3],  want[2],  want[1],  want[0], want[5],  want[4],
                             want[7],  want[6],  want[8],  want[9], want[10], want[11],
                             want[12], want[13], want[14], want[15]};
  return memcmp(g, mixed, 16) == 0;
}

static int parse_cert_table(const uint8_t *t, size_t n, snp_inputs *in, json_object *j, char *why,
                            size_t wn) {
  static const uint8_t zero[24];
  for (size_t off = 0;; off += 24) {
    if (off + 24 > n || off / 24 > 64) {
      snprintf(why, wn, "certificate table without its all-zero terminating entry");
      return -1;
    }
    const uint8_t *e = t + off;
    if (memcmp(e, zero, 24) == 0) return 0;
    uint32_t o = ehal_get_u32(e + 16), l = ehal_get_u32(e + 20);
    if (o > n || l > n - o || l == 0) {
      snprintf(why, wn, "certificate table entry %zu points outside the table", off / 24);
      return -1;
    }
    const char *role = NULL;
    const uint8_t **dst = NULL;
    size_t *dlen = NULL;
    if (guid_is(e, GUID_VCEK)) role = "vcek", dst = &in->vcek, dlen = &in->vcek_len;
    if (guid_is(e, GUID_VLEK)) role = "vlek", dst = &in->vlek, dlen = &in->vlek_len;
    if (guid_is(e, GUID_ASK)) role = "ask", dst = &in->ask, dlen = &in->ask_len;
    if (guid_is(e, GUID_ARK)) role = "ark", dst = &in->ark, dlen = &in->ark_len;
    json_object_array_add(j, json_object_new_string(role ? role : "unknown"));
    if (dst) {
      if (*dst) {
        snprintf(why, wn, "certificate table names the %s twice", role);
        return -1;
      }
      *dst = t + o;
      *dlen = l;
    }
  }
}

/* A string member without embedded NULs (which would make the text a
 * reader sees differ from what the binding hashes). */
static const char *str_member(json_object *o, const char *k) {
  json_object *v;
  if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  const char *s = json_object_get_string(v);
  return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

int ehal_verify_envelope(vctx *c, const uint8_t *buf, size_t len) {
  const ehal_verify_opts *o = c->opts;
  json_tokener *tok = json_tokener_new();
  json_object *doc = tok ? json_tokener_parse_ex(tok, (const char *)buf, (int)len) : NULL;
  size_t end = tok ? json_tokener_get_parse_end(tok) : 0;
  bool parsed = tok && json_tokener_get_error(tok) == json_tokener_success;
  json_tokener_free(tok);
  while (parsed && end < len &&
         (buf[end] == ' ' || buf[end] == '\n' || buf[end] == '\r' || buf[end] == '\t'))
    end++;
  uint8_t *ev = NULL, *certs = NULL, *rd = NULL;
  size_t ev_len = 0, certs_len = 0;
  int rc = -1;
  json_object *ej = json_object_new_object();
  json_object_object_add(c->extra, "envelope", ej);
  if (!parsed || end != len || !json_object_is_type(doc, json_type_object)) {
    vfail(c, "envelope", "not one JSON object");
    goto out;
  }
  json_object *ver, *evo, *bo;
  const char *type = str_member(doc, "type"), *prov = str_member(doc, "provider");
  if (!type || strcmp(type, "elastic-hal-evidence")) {
    vfail(c, "envelope", "\"type\" is not \"elastic-hal-evidence\"");
    goto out;
  }
  if (!json_object_object_get_ex(doc, "version", &ver) ||
      !json_object_is_type(ver, json_type_int) || json_object_get_int64(ver) != 1) {
    vfail(c, "envelope", "\"version\" is not 1");
    goto out;
  }
  if (!prov || (strcmp(prov, "sev-snp") && strcmp(prov, "tdx") && strcmp(prov, "simulated"))) {
    vfail(c, "envelope", "\"provider\" is not sev-snp, tdx or simulated");
    goto out;
  }
  jadd_str(ej, "provider", prov);
  if (!json_object_object_get_ex(doc, "evidence", &evo) ||
      !json_object_is_type(evo, json_type_object)) {
    vfail(c, "envelope", "\"evidence\" is missing");
    goto out;
  }
  const char *fmt = str_member(evo, "format"), *data = str_member(evo, "data");
  bool snp_fmt = fmt && !strcmp(fmt, "sev-snp-report"), tdx_fmt = fmt && !strcmp(fmt, "tdx-quote");
  if (!snp_fmt && !tdx_fmt) {
    vfail(c, "envelope", "\"evidence.format\" is not sev-snp-report or tdx-quote");
    goto out;
  }
  if (tdx_fmt != !strcmp(prov, "tdx")) {
    vfail(c, "envelope", "provider %s cannot give evidence in format %s", prov, fmt);
    goto out;
  }
  jadd_str(ej, "format", fmt);
  if (!data || !(ev = b64_decode(data, &ev_len))) {
    vfail(c, "envelope", "\"evidence.data\" is not base64");
    goto out;
  }
  json_object *certv;
  if (json_object_object_get_ex(doc, "certificates", &certv) && certv) {
    const char *cs =
        json_object_is_type(certv, json_type_string) ? json_object_get_string(certv) : NULL;
    if (!cs || !(certs = b64_decode(cs, &certs_len))) {
      vfail(c, "envelope", "\"certificates\" is not base64");
      goto out;
    }
  }

  /* the binding inputs */
  if (!json_object_object_get_ex(doc, "binding", &bo) ||
      !json_object_is_type(bo, json_type_object)) {
    vfail(c, "envelope", "\"binding\" is missing");
    goto out;
  }
  const char *scheme = str_member(bo, "scheme"), *rdh = str_member(bo, "report-data"),
             *modh = str_member(bo, "module-sha384"), *world = str_member(bo, "world"),
             *workload = str_member(bo, "workload");
  uint8_t module[48];
  long rd_len;
  if (!scheme || strcmp(scheme, "elastic-hal-binding-v1")) {
    vfail(c, "envelope", "\"binding.scheme\" is not elastic-hal-binding-v1");
    goto out;
  }
  rd = malloc(1024 + 1);
  if (!rdh || !rd || (rd_len = ehal_hex_decode(rdh, rd, 1024)) < 0) {
    vfail(c, "envelope", "\"binding.report-data\" is not hex of at most 1024 bytes");
    goto out;
  }
  if (!modh || strlen(modh) != 96 || ehal_hex_decode(modh, module, 48) != 48) {
    vfail(c, "envelope", "\"binding.module-sha384\" is not 96 hex characters");
    goto out;
  }
  if (!world || !workload) {
    vfail(c, "envelope", "\"binding.world\" or \"binding.workload\" is missing");
    goto out;
  }
  json_object_object_add(ej, "binding", json_object_get(bo));
  vpass(c, "envelope", "provider %s, %s of %zu bytes%s", prov, fmt, ev_len,
        certs ? ", with a certificate table" : "");

  /* the evidence itself */
  snp_inputs in = {.simulated = !strcmp(prov, "simulated")};
  if (certs) {
    char why[300];
    json_object *roles = json_object_new_array();
    json_object_object_add(ej, "certificate_table", roles);
    if (parse_cert_table(certs, certs_len, &in, roles, why, sizeof why) != 0) {
      vfail(c, "envelope", "%s", why);
      goto out;
    }
  }
  if (in.simulated && !o->allow_simulated) {
    c->res->kind = EHAL_EVIDENCE_SIMULATED;
    vfail(c, "simulated",
          "simulated evidence (no TEE: proves nothing about hardware) is refused without "
          "--allow-simulated");
    /* still verify the rest, for the full result */
  }
  if (tdx_fmt) {
    if (certs) vskip(c, "envelope", "the certificate table is not used for TDX");
    ehal_verify_tdx(c, ev, ev_len);
  } else {
    ehal_verify_snp(c, ev, ev_len, &in);
  }
  if (c->res->version == 0) goto out; /* the evidence did not parse */

  /* REPORT_DATA must be the binding of the stated inputs */
  uint8_t want[64];
  ehal_binding_compute(rd, (size_t)rd_len, module, world, workload, want);
  jadd_hex(ej, "binding_computed", want, 64);
  if (memcmp(want, c->res->report_data, 64) == 0)
    vpass(c, "binding",
          "REPORT_DATA = SHA-512 binding of report-data (%ld bytes), module, world '%s', "
          "workload '%s'",
          rd_len, world, workload);
  else
    vfail(c, "binding",
          "REPORT_DATA is not the binding of the envelope's report-data, module, world and "
          "workload");
  if (in.simulated) {
    if (memcmp(module, c->res->measurement, 48) == 0)
      vpass(c, "measurement", "the simulated MEASUREMENT is the module's SHA-384");
    else
      vfail(c, "measurement", "the simulated MEASUREMENT is not the binding's module SHA-384");
  }
  if (o->has_expect_report_data) {
    if ((size_t)rd_len == o->expect_report_data_len &&
        memcmp(rd, o->expect_report_data, (size_t)rd_len) == 0)
      vpass(c, "report-data", "the bound report-data equals the expected value");
    else
      vfail(c, "report-data", "the bound report-data (%ld bytes) differs from the expected value",
            rd_len);
  }
  if (o->has_expect_module) {
    if (memcmp(module, o->expect_module_sha384, 48) == 0)
      vpass(c, "module", "the bound module SHA-384 equals the expected module's");
    else
      vfail(c, "module", "the bound module SHA-384 differs from the expected module's");
  }
  if (o->expect_world) {
    if (strcmp(world, o->expect_world) == 0)
      vpass(c, "world", "the bound world is the expected '%s'", world);
    else
      vfail(c, "world", "the bound world '%s' is not the expected '%s'", world, o->expect_world);
  }
  if (o->expect_workload) {
    if (strcmp(workload, o->expect_workload) == 0)
      vpass(c, "workload", "the bound workload is the expected '%s'", workload);
    else
      vfail(c, "workload", "the bound workload '%s' is not the expected '%s'", workload,
            o->expect_workload);
  }
  rc = c->failed ? -1 : 0;
out:
  free(ev);
  free(certs);
  free(rd);
  json_object_put(doc);
  return rc;
}
