/* http_url.c — endpoint URLs: what a request needs (host, port, target,
 * credentials) and the label that may be shown (scheme://host[:port]).
 *
 * A URL may carry an API key in its path, query or user info, so nothing
 * here ever puts URL text in a message: errors name the endpoint by its
 * position. Only the forms an RPC endpoint takes are accepted:
 * http(s)://[user[:pass]@]host[:port][/path][?query][#fragment], where host
 * is a name, an IPv4 address or a bracketed IPv6 address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dstackgov/hex.h"
#include "rpc_internal.h"
#include "dstackgov/utf8.h"

static int lower(int c) {
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* "Basic " + base64 of the percent-decoded user info, or NULL. */
static char *basic_auth(const char *ui, size_t n) {
    unsigned char *raw = malloc(n + 1);
    if (!raw) return NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (ui[i] == '%' && i + 2 < n && dg_hex_digit((unsigned char)ui[i + 1]) >= 0 &&
            dg_hex_digit((unsigned char)ui[i + 2]) >= 0) {
            raw[m++] = (unsigned char)(dg_hex_digit((unsigned char)ui[i + 1]) * 16 +
                                       dg_hex_digit((unsigned char)ui[i + 2]));
            i += 2;
        } else {
            raw[m++] = (unsigned char)ui[i];
        }
    }
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(6 + (m + 2) / 3 * 4 + 1);
    if (!out) {
        free(raw);
        return NULL;
    }
    strcpy(out, "Basic "); /* out holds at least 7 bytes */
    char *o = out + 6;
    for (size_t i = 0; i < m; i += 3) {
        unsigned v = (unsigned)raw[i] << 16;
        if (i + 1 < m) v |= (unsigned)raw[i + 1] << 8;
        if (i + 2 < m) v |= raw[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < m ? b64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < m ? b64[v & 63] : '=';
    }
    *o = 0;
    memset(raw, 0, m);
    free(raw);
    return out;
}

static int host_char(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

void dg_http_url_free(dg_http_url *u) {
    if (!u) return;
    if (u->target) {
        memset(u->target, 0, strlen(u->target));
        free(u->target);
    }
    if (u->auth) {
        memset(u->auth, 0, strlen(u->auth));
        free(u->auth);
    }
    u->target = u->auth = NULL;
}

int dg_http_url_parse(const char *url, size_t idx, dg_http_url *u, char *label, size_t cap,
                      dg_err *err) {
    memset(u, 0, sizeof *u);
    const char *sep = strstr(url, "://");
    size_t slen = sep ? (size_t)(sep - url) : 0;
    int scheme_ok = slen > 0 && slen < 16;
    for (size_t i = 0; scheme_ok && i < slen; i++) {
        int c = lower((unsigned char)url[i]);
        scheme_ok = (c >= 'a' && c <= 'z') ||
                    (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    }
    if (!scheme_ok) goto invalid;
    char scheme[16];
    for (size_t i = 0; i < slen; i++)
        scheme[i] = (char)lower((unsigned char)url[i]);
    scheme[slen] = 0;
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        char s[24];
        dg_utf8_clean_str(s, sizeof s, scheme, 16);
        return dg_err_set(err, DG_ERR_CONFIG,
                          "rpc endpoint #%zu: scheme \"%s\" is not http or https", idx + 1, s);
    }
    u->https = slen == 5; /* "https", checked just above */

    const char *a = sep + 3;
    size_t alen = strcspn(a, "/?#");
    const char *rest = a + alen;
    /* user info: up to the last '@' of the authority */
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (a[i] == '@') at = a + i;
    if (at) {
        for (const char *p = a; p < at; p++)
            if ((unsigned char)*p <= ' ' || *p == 0x7f) goto invalid;
        u->auth = basic_auth(a, (size_t)(at - a));
        if (!u->auth) goto nomem;
        alen -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    const char *hp = a, *hend;
    size_t hlen;
    if (alen > 0 && *a == '[') {
        const char *close = memchr(a, ']', alen);
        if (!close || close == a + 1) goto invalid;
        for (const char *p = a + 1; p < close; p++)
            if (!(dg_hex_digit((unsigned char)*p) >= 0 || *p == ':' || *p == '.')) goto invalid;
        hp = a + 1;
        hlen = (size_t)(close - hp);
        hend = close + 1;
        u->ipv6 = 1;
    } else {
        hlen = 0;
        while (hlen < alen && a[hlen] != ':')
            hlen++;
        for (size_t i = 0; i < hlen; i++)
            if (!host_char((unsigned char)a[i])) goto invalid;
        hend = a + hlen;
    }
    if (hlen == 0 || hlen >= sizeof u->host) goto invalid;
    for (size_t i = 0; i < hlen; i++)
        u->host[i] = (char)lower((unsigned char)hp[i]);
    u->host[hlen] = 0;
    size_t plen = (size_t)(a + alen - hend);
    if (plen > 0) {
        if (*hend != ':' || plen < 2 || plen > 6) goto invalid;
        unsigned long port = 0;
        for (size_t i = 1; i < plen; i++) {
            if (hend[i] < '0' || hend[i] > '9') goto invalid;
            port = port * 10 + (unsigned long)(hend[i] - '0');
        }
        if (port == 0 || port > 65535) goto invalid;
        snprintf(u->port, sizeof u->port, "%lu", port);
    }
    /* target: path and query, never the fragment; control characters and
     * spaces would break the request line */
    size_t tlen = strcspn(rest, "#");
    for (size_t i = 0; i < tlen; i++)
        if ((unsigned char)rest[i] <= ' ' || rest[i] == 0x7f) goto invalid;
    int need_slash = tlen == 0 || rest[0] != '/';
    u->target = malloc(tlen + 2);
    if (!u->target) goto nomem;
    if (need_slash) u->target[0] = '/';
    memcpy(u->target + need_slash, rest, tlen);
    u->target[tlen + (size_t)need_slash] = 0;
    snprintf(label, cap, "%s://%s%s%s%s%s", scheme, u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "",
             u->port[0] ? ":" : "", u->port);
    return 1;
invalid:
    dg_http_url_free(u);
    return dg_err_set(
        err, DG_ERR_CONFIG,
        "rpc endpoint #%zu is not a valid URL (expected http(s)://host[:port][/path])", idx + 1);
nomem:
    dg_http_url_free(u);
    return dg_err_set(err, DG_ERR_NOMEM, "rpc: out of memory");
}
