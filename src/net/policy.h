/*
 * policy.h - the operator's network policy: which addresses a workload may
 * connect to and bind, nothing else.
 *
 * A rule is ADDR:PORT.  ADDR is an IPv4 address, an IPv6 address in
 * brackets, either as a CIDR block (10.0.0.0/8, [fd00::/8]), a host name
 * (resolved once, when the policy is made: each address it has becomes an
 * exact rule), or * (any address).  PORT is a number, a range LO-HI, or *.
 * With no rule nothing is allowed.  Checks are made on the address actually
 * used, after name resolution, and an IPv4-mapped IPv6 address
 * (::ffff:10.0.0.7) is checked as the IPv4 address it is.
 *
 * A leaf: libc only.
 */
#ifndef EHAL_NET_POLICY_H
#define EHAL_NET_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct ehal_net_policy ehal_net_policy;

typedef enum { EHAL_NET_CONNECT = 0, EHAL_NET_BIND = 1 } ehal_net_dir;

/* Parse the rules of both directions.  NULL with the reason in err (which
 * names the rule) when one is malformed or names a host that does not
 * resolve, or when out of memory. */
ehal_net_policy *ehal_net_policy_new(const char *const *connect, size_t n_connect,
                                     const char *const *bind, size_t n_bind, char *err,
                                     size_t errlen);
void ehal_net_policy_free(ehal_net_policy *p);

/* Whether the policy allows dir to the address sa (AF_INET or AF_INET6;
 * anything else is refused).  p NULL allows nothing. */
bool ehal_net_allowed(const ehal_net_policy *p, ehal_net_dir dir, const struct sockaddr *sa);

/* "10.0.0.7:22" or "[::1]:8080", for messages. */
void ehal_net_format(const struct sockaddr *sa, char *out, size_t outlen);

#endif
