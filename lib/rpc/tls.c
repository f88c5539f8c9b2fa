/* tls.c — the TLS policy of https:// endpoints: what is checked, what is
 * trusted, and how a refusal is told.
 *
 * The one idea: verification is not a setting. Every https:// handle gets
 * peer and host name verification, TLS 1.2 or later, and a trust store that
 * is either the system's or exactly the CAs of one PEM file (a private CA
 * next to a KMS); nothing in the library's API can weaken that. When a
 * handshake is refused, libcurl's code, OpenSSL's verify result and
 * libcurl's error text are mapped, through two tables, to a message that
 * names the failed check, so an operator can tell an expired certificate
 * from a wrong host, an unknown CA or a server that does not speak TLS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "rpc_internal.h"

#define CA_FILE_MAX (16u << 20)

int dg_rpc_ca_file_check(const char *path, dg_err *err) {
    if (!path || !*path) return dg_err_set(err, DG_ERR_CONFIG, "CA file: empty path");
    FILE *f = fopen(path, "rb");
    if (!f) return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > CA_FILE_MAX) {
        fclose(f);
        return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: larger than 16 MiB", path);
    }
    /* Look for the PEM marker line by line (a bundle is a few hundred KiB). */
    static const char marker[] = "-----BEGIN CERTIFICATE-----";
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, marker, sizeof marker - 1) == 0;
    int rd = ferror(f);
    fclose(f);
    if (rd) return dg_err_set(err, DG_ERR_CONFIG, "CA file %s: read error", path);
    if (!found)
        return dg_err_set(err, DG_ERR_CONFIG,
                          "CA file %s: no PEM certificate in it (expected a line "
                          "\"%s\")",
                          path, marker);
    return 1;
}

int dg_tls_setup(const dg_curl_api *cu, CURL *h, const char *ca_file, char *errbuf) {
    int bad = 0;
    bad |= cu->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
    if (ca_file) {
        /* only the file's CAs: the system's directory of CAs must not add to them */
        bad |= cu->easy_setopt(h, CURLOPT_CAINFO, ca_file) != CURLE_OK;
        bad |= cu->easy_setopt(h, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK;
    }
    bad |= cu->easy_setopt(h, CURLOPT_SHARE, cu->share) != CURLE_OK;
    bad |= cu->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
    return !bad;
}

/* OpenSSL's X509_V_ERR_* codes (stable numbers of its ABI) as the reason a
 * certificate was refused. */
static const struct {
    long code;
    const char *why;
} VERIFY[] = {
    {2, "is not signed by a trusted CA (issuer unknown)"},
    {18, "is self-signed and not trusted"},
    {19, "is not signed by a trusted CA (self-signed CA in the chain)"},
    {20, "is not signed by a trusted CA"},
    {21, "is not signed by a trusted CA (cannot verify the first certificate)"},
    {7, "has a bad signature"},
    {9, "is not valid yet"},
    {10, "has expired"},
    {23, "was revoked"},
    {24, "chain holds a certificate that is not a CA"},
    {26, "is not meant for TLS servers (key usage)"},
    {62, "is not valid for host"}, /* followed by the host */
};

/* libcurl's error text (from its TLS backend) for handshakes that failed
 * before any certificate was seen. */
static const struct {
    const char *needle;
    const char *why;
} HANDSHAKE[] = {
    {"wrong version number", "the server does not speak TLS (a plain-HTTP server on an https:// "
                             "URL?)"},
    {"packet length too long", "the server does not speak TLS (a plain-HTTP server on an "
                               "https:// URL?)"},
    {"unexpected eof", "the server closed the connection during the handshake"},
    {"unsupported protocol", "no TLS version in common (TLS 1.2 or later is required)"},
    {"no protocols available", "no TLS version in common (TLS 1.2 or later is required)"},
    {"handshake failure", "no cipher suite or key exchange in common, or the server refused"},
    {"alert", "the server refused the handshake"},
};

int dg_tls_failure(const dg_curl_api *cu, CURL *h, CURLcode cc, const char *errbuf,
                   const char *host, char *out, size_t cap) {
    char detail[200];
    dg_rpc_sanitize(detail, sizeof detail, errbuf && errbuf[0] ? errbuf : cu->easy_strerror(cc),
                    160);
    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION: {
        long vr = 0;
        cu->easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &vr);
        /* libcurl checks the host name itself, after the chain; its text says so */
        if (strstr(detail, "host name") || strstr(detail, "subject name")) vr = 62;
        for (size_t i = 0; i < sizeof VERIFY / sizeof VERIFY[0]; i++)
            if (VERIFY[i].code == vr) {
                snprintf(out, cap, "TLS: the server's certificate %s%s%s", VERIFY[i].why,
                         vr == 62 ? " " : "", vr == 62 ? host : "");
                return 1;
            }
        snprintf(out, cap, "TLS: the server's certificate was refused: %s", detail);
        return 1;
    }
    case CURLE_SSL_CONNECT_ERROR:
        for (size_t i = 0; i < sizeof HANDSHAKE / sizeof HANDSHAKE[0]; i++)
            if (strstr(detail, HANDSHAKE[i].needle)) {
                snprintf(out, cap, "TLS handshake failed: %s", HANDSHAKE[i].why);
                return 1;
            }
        snprintf(out, cap, "TLS handshake failed: %s", detail);
        return 1;
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(out, cap, "TLS: the CA file could not be loaded: %s", detail);
        return 1;
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        snprintf(out, cap, "TLS: %s", detail);
        return 1;
    default:
        return 0;
    }
}
