/* syntax.c — HTTP/1.1 token rules shared by the server's request parser and
 * the RPC client's response parser (see dstackgov/httpd.h). */
#include <string.h>
#include <strings.h>

#include "dstackgov/httpd.h"

int dg_http_is_tchar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c > 0 && c < 0x80 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int dg_http_is_field_char(int c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f && c <= 0xff);
}

int dg_http_list_has(const char *v, size_t n, const char *tok) {
    size_t i = 0, tl = strlen(tok);
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0) return 1;
    }
    return 0;
}
