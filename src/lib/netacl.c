/* netacl: which network addresses an outbound request may reach.
 *
 * Checked against the address a connection is actually made to (from
 * libcurl's open-socket callback), so a name that resolves to a public address
 * at registration and an internal one later (DNS rebinding) is still refused. */
#include "netacl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

typedef struct Block {
    int family;
    unsigned char addr[16];
    int bits;
} Block;

struct NetAcl {
    Block *blocks;
    int n;
};

void netacl_free(NetAcl *acl)
{
    if (acl == NULL)
        return;
    free(acl->blocks);
    free(acl);
}

static int block_parse(const char *text, Block *b)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t len = slash ? (size_t)(slash - text) : strlen(text);
    if (len == 0 || len >= sizeof host)
        return -1;
    memcpy(host, text, len);
    host[len] = '\0';
    b->family = strchr(host, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(b->family, host, b->addr) != 1)
        return -1;
    int max = b->family == AF_INET ? 32 : 128;
    char *end;
    b->bits = slash ? (int)strtol(slash + 1, &end, 10) : max;
    if ((slash && (*end != '\0' || slash[1] == '\0')) || b->bits < 0 || b->bits > max)
        return -1;
    return 0;
}

NetAcl *netacl_parse(const char *list, char *err, size_t errlen)
{
    NetAcl *acl = xcalloc(1, sizeof *acl);
    char *copy = xstrdup(list), *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        acl->blocks = xrealloc(acl->blocks, (size_t)(acl->n + 1) * sizeof *acl->blocks);
        if (block_parse(tok, &acl->blocks[acl->n]) != 0) {
            snprintf(err, errlen, "bad address block \"%.60s\" (want CIDR like 10.0.0.0/8)", tok);
            free(copy);
            netacl_free(acl);
            return NULL;
        }
        acl->n++;
    }
    free(copy);
    return acl;
}

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)bytes) != 0)
        return 0;
    return rest == 0 || ((a[bytes] ^ b[bytes]) & (0xFF << (8 - rest))) == 0;
}

/* The address as (family, bytes); IPv4-mapped IPv6 becomes IPv4. */
static int addr_bytes(const struct sockaddr *sa, unsigned char out[16])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family != AF_INET6)
        return -1;
    const unsigned char *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    if (memcmp(a6, mapped, 12) == 0) {
        memcpy(out, a6 + 12, 4);
        return AF_INET;
    }
    memcpy(out, a6, 16);
    return AF_INET6;
}

int netacl_internal(const struct sockaddr *sa)
{
    static const char *const v4[] = {"0.0.0.0/8",       "10.0.0.0/8",
                                     "100.64.0.0/10",   "127.0.0.0/8",
                                     "169.254.0.0/16",  "172.16.0.0/12",
                                     "192.0.0.0/24",    "192.0.2.0/24",
                                     "192.168.0.0/16",  "198.18.0.0/15",
                                     "198.51.100.0/24", "203.0.113.0/24",
                                     "224.0.0.0/3",     NULL};
    /* IPv6 forms that carry or reach an IPv4 address (IPv4-compatible ::/96,
     * SIIT ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4
     * 2002::/16) are refused whole: the IPv4 inside may be internal. */
    static const char *const v6[] = {"::/96",     "::ffff:0:0:0/96", "fc00::/7",      "fe80::/10",
                                     "fec0::/10", "ff00::/8",        "64:ff9b::/96",  "64:ff9b:1::/48",
                                     "2002::/16", "100::/64",        "2001:db8::/32", NULL};
    unsigned char a[16];
    int family = addr_bytes(sa, a);
    if (family < 0)
        return 1;
    for (const char *const *p = family == AF_INET ? v4 : v6; *p; p++) {
        Block b;
        if (block_parse(*p, &b) == 0 && prefix_match(a, b.addr, b.bits))
            return 1;
    }
    return 0;
}

int netacl_permits(const NetAcl *acl, const struct sockaddr *sa, char *why, size_t whylen)
{
    unsigned char a[16];
    int family = addr_bytes(sa, a);
    if (family < 0) {
        if (why)
            snprintf(why, whylen, "refused: not an IP address");
        return 0;
    }
    if (!netacl_internal(sa))
        return 1;
    for (int i = 0; acl && i < acl->n; i++)
        if (acl->blocks[i].family == family && prefix_match(a, acl->blocks[i].addr, acl->blocks[i].bits))
            return 1;
    if (why) /* the address itself is not told: it may be an internal one the caller does not know */
        snprintf(why, whylen,
                 "refused: the host's address is loopback, private, link-local, metadata or "
                 "otherwise internal (allow it with the executor's --http-allow)");
    return 0;
}
