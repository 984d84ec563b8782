/* netacl: which network addresses an outbound request may reach. */
#ifndef DTS_NETACL_H
#define DTS_NETACL_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct NetAcl NetAcl;

/* Parses a comma-separated list of CIDR blocks ("127.0.0.0/8,::1/128,10.1.2.3")
 * that are allowed even though internal. "" gives an empty list. NULL with err
 * filled on a bad entry. Pure. The caller frees with netacl_free. */
NetAcl *netacl_parse(const char *list, char *err, size_t errlen);
void netacl_free(NetAcl *acl);

/* 1 if ADDR is internal: loopback, private (RFC 1918, fc00::/7, fec0::/10),
 * link-local (169.254/16, fe80::/10, which holds the cloud metadata
 * services), CGNAT, documentation, unspecified, multicast or broadcast, or an
 * IPv6 form that embeds or translates to IPv4 (::/96, SIIT, NAT64, 6to4);
 * IPv4-mapped IPv6 (::ffff:0:0/96) is judged as the IPv4 inside. */
int netacl_internal(const struct sockaddr *addr);

/* 1 if a request may connect to ADDR: public, or covered by the allow-list.
 * WHY (if not NULL) gets the reason when refused, without the address. */
int netacl_permits(const NetAcl *acl, const struct sockaddr *addr, char *why, size_t whylen);

#endif
