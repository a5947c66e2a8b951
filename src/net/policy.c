/* policy.c - the operator's network policy (see policy.h). */
#define _GNU_SOURCE
#include "policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int family; /* AF_INET or AF_INET6 */
  uint8_t addr[16];
  unsigned prefix; /* bits of addr that must match */
  unsigned port_lo, port_hi;
} rule;

struct ehal_net_policy {
  rule *rules[2]; /* by ehal_net_dir */
  size_t n[2], cap[2];
};

static int add_rule(ehal_net_policy *p, ehal_net_dir d, rule r) {
  if (p->n[d] == p->cap[d]) {
    size_t cap = p->cap[d] ? p->cap[d] * 2 : 8;
    rule *g = realloc(p->rules[d], cap * sizeof *g);
    if (!g) return -1;
    p->rules[d] = g;
    p->cap[d] = cap;
  }
  p->rules[d][p->n[d]++] = r;
  return 0;
}

/* A decimal port in [0, 65535], the whole string. */
static bool parse_port(const char *s, size_t len, unsigned *out) {
  if (len == 0 || len > 5) return false;
  unsigned v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (unsigned)(s[i] - '0');
  }
  if (v > 65535) return false;
  *out = v;
  return true;
}

static bool parse_ports(const char *s, unsigned *lo, unsigned *hi) {
  if (!strcmp(s, "*")) {
    *lo = 0;
    *hi = 65535;
    return true;
  }
  const char *dash = strchr(s, '-');
  if (!dash) {
    if (!parse_port(s, strlen(s), lo)) return false;
    *hi = *lo;
    return true;
  }
  return parse_port(s, (size_t)(dash - s), lo) && parse_port(dash + 1, strlen(dash + 1), hi) &&
         *lo <= *hi;
}

/* An address literal, with an optional /prefix. */
static bool parse_cidr(const char *s, rule *r) {
  char buf[INET6_ADDRSTRLEN + 8];
  if (strlen(s) >= sizeof buf) return false;
  snprintf(buf, sizeof buf, "%s", s);
  char *slash = strchr(buf, '/');
  if (slash) *slash = 0;
  if (inet_pton(AF_INET, buf, r->addr) == 1)
    r->family = AF_INET;
  else if (inet_pton(AF_INET6, buf, r->addr) == 1)
    r->family = AF_INET6;
  else
    return false;
  unsigned max = r->family == AF_INET ? 32 : 128;
  r->prefix = max;
  if (slash) {
    unsigned v;
    if (!parse_port(slash + 1, strlen(slash + 1), &v) || v > max) return false;
    r->prefix = v;
  }
  return true;
}

/* One rule "ADDR:PORT" into p (a host name or * may make several). */
static int parse_rule(ehal_net_policy *p, ehal_net_dir d, const char *text, char *err,
                      size_t errlen) {
  const char *flag = d == EHAL_NET_CONNECT ? "--allow-connect" : "--allow-bind";
  char host[256];
  const char *port;
  rule r = {0};
  if (text[0] == '[') { /* [IPv6 or CIDR]:PORT */
    const char *end = strchr(text, ']');
    if (!end || end[1] != ':' || (size_t)(end - text - 1) >= sizeof host) goto bad;
    memcpy(host, text + 1, (size_t)(end - text - 1));
    host[end - text - 1] = 0;
    port = end + 2;
    if (!strchr(host, ':')) goto bad; /* brackets are for IPv6 only */
  } else {
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host || memchr(text, ':', colon - text))
      goto bad;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    port = colon + 1;
  }
  if (!host[0] || !parse_ports(port, &r.port_lo, &r.port_hi)) goto bad;
  if (!strcmp(host, "*")) {
    rule v4 = r, v6 = r;
    v4.family = AF_INET;
    v6.family = AF_INET6;
    return add_rule(p, d, v4) || add_rule(p, d, v6) ? -1 : 0;
  }
  if (parse_cidr(host, &r)) return add_rule(p, d, r);
  if (strchr(host, '/') || strchr(host, ':')) goto bad;
  /* a host name: every address it resolves to now */
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  int rc = getaddrinfo(host, NULL, &hints, &res);
  if (rc != 0) {
    snprintf(err, errlen, "%s %s: cannot resolve %s: %s", flag, text, host, gai_strerror(rc));
    return -1;
  }
  int out = 0;
  for (struct addrinfo *a = res; a && !out; a = a->ai_next) {
    rule h = r;
    h.family = a->ai_family;
    if (a->ai_family == AF_INET) {
      memcpy(h.addr, &((struct sockaddr_in *)a->ai_addr)->sin_addr, 4);
      h.prefix = 32;
    } else if (a->ai_family == AF_INET6) {
      memcpy(h.addr, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, 16);
      h.prefix = 128;
    } else {
      continue;
    }
    out = add_rule(p, d, h);
  }
  freeaddrinfo(res);
  if (out) snprintf(err, errlen, "out of memory");
  return out;
bad:
  snprintf(err, errlen,
           "%s %s: not a rule (ADDR:PORT, with ADDR an IPv4 address, [IPv6], a CIDR block, a "
           "host name or *, and PORT a number, LO-HI or *)",
           flag, text);
  return -1;
}

ehal_net_policy *ehal_net_policy_new(const char *const *connect, size_t n_connect,
                                     const char *const *bind, size_t n_bind, char *err,
                                     size_t errlen) {
  if (errlen) err[0] = 0;
  ehal_net_policy *p = calloc(1, sizeof *p);
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n_connect; i++)
    if (!connect[i] || parse_rule(p, EHAL_NET_CONNECT, connect[i], err, errlen) != 0) goto fail;
  for (size_t i = 0; i < n_bind; i++)
    if (!bind[i] || parse_rule(p, EHAL_NET_BIND, bind[i], err, errlen) != 0) goto fail;
  return p;
fail:
  if (!err[0]) snprintf(err, errlen, "a network rule is missing");
  ehal_net_policy_free(p);
  return NULL;
}

void ehal_net_policy_free(ehal_net_policy *p) {
  if (!p) return;
  free(p->rules[0]);
  free(p->rules[1]);
  free(p);
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits) {
  unsigned whole = bits / 8, rest = bits % 8;
  if (memcmp(a, b, whole) != 0) return false;
  if (!rest) return true;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool ehal_net_allowed(const ehal_net_policy *p, ehal_net_dir dir, const struct sockaddr *sa) {
  if (!p || !sa) return false;
  int family;
  const uint8_t *addr;
  unsigned port;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    family = AF_INET;
    addr = (const uint8_t *)&in->sin_addr;
    port = ntohs(in->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    family = AF_INET6;
    addr = (const uint8_t *)&in6->sin6_addr;
    port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) { /* the IPv4 address it is */
      family = AF_INET;
      addr += 12;
    }
  } else {
    return false;
  }
  for (size_t i = 0; i < p->n[dir]; i++) {
    const rule *r = &p->rules[dir][i];
    if (r->family == family && port >= r->port_lo && port <= r->port_hi &&
        prefix_match(r->addr, addr, r->prefix))
      return true;
  }
  return false;
}

void ehal_net_format(const struct sockaddr *sa, char *out, size_t outlen) {
  char a[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
    snprintf(out, outlen, "%s:%u", a, ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
    snprintf(out, outlen, "[%s]:%u", a, ntohs(in6->sin6_port));
  } else {
    snprintf(out, outlen, "(an address of family %d)", sa->sa_family);
  }
}
