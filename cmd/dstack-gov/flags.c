/* flags.c — the shared flag parser (see flags.h).
 *
 * Tables are searched in order; the first table holding a name wins, so a
 * command can override a common flag's help text by listing it itself.
 */
#include "flags.h"

#include <string.h>

static const flag_spec *find(const flag_spec *const tables[3], const char *name, size_t n) {
    for (int t = 0; t < 3; t++) {
        if (!tables[t]) continue;
        for (const flag_spec *s = tables[t]; s->name; s++)
            if (strlen(s->name) == n && memcmp(s->name, name, n) == 0) return s;
    }
    return NULL;
}

static int store(dg_flags *f, const flag_spec *s, const char *v, dg_err *err) {
    for (size_t i = 0; i < f->n; i++)
        if (f->spec[i] == s) {
            f->val[i] = v;
            return 1;
        }
    if (f->n == FLAGS_MAX) return dg_err_set(err, DG_ERR_INPUT, "too many flags");
    f->spec[f->n] = s;
    f->val[f->n++] = v;
    return 1;
}

int flags_parse(dg_flags *f, int argc, char **argv, const flag_spec *t1, const flag_spec *t2,
                const flag_spec *t3, dg_err *err) {
    const flag_spec *const tables[3] = {t1, t2, t3};
    int only_pos = 0;
    memset(f, 0, sizeof *f);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            if (f->npos == FLAGS_MAX_POS)
                return dg_err_set(err, DG_ERR_INPUT, "too many arguments at \"%s\"", a);
            f->pos[f->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0) a = "--help";
        if (strcmp(a, "-y") == 0) a = "--yes";
        if (a[1] != '-')
            return dg_err_set(err, DG_ERR_INPUT, "unknown flag \"%s\" (flags are --long)", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        const flag_spec *s = find(tables, name, n);
        if (!s) return dg_err_set(err, DG_ERR_INPUT, "unknown flag \"--%.*s\"", (int)n, name);
        if (s->kind == FLAG_BOOL) {
            const char *v = "1";
            if (eq) {
                if (strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0)
                    v = "1";
                else if (strcmp(eq + 1, "false") == 0 || strcmp(eq + 1, "0") == 0)
                    v = "0";
                else
                    return dg_err_set(err, DG_ERR_INPUT,
                                      "flag --%s takes true or false, got \"%s\"", s->name, eq + 1);
            }
            if (!store(f, s, v, err)) return 0;
        } else {
            const char *v;
            if (eq)
                v = eq + 1;
            else if (i + 1 < argc)
                v = argv[++i];
            else
                return dg_err_set(err, DG_ERR_INPUT, "flag --%s needs a value (%s)", s->name,
                                  s->metavar ? s->metavar : "VALUE");
            if (!store(f, s, v, err)) return 0;
        }
    }
    return 1;
}

const char *flag_str(const dg_flags *f, const char *name) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->spec[i]->name, name) == 0)
            return f->spec[i]->kind == FLAG_STR ? f->val[i] : NULL;
    return NULL;
}

int flag_bool(const dg_flags *f, const char *name) {
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->spec[i]->name, name) == 0) return f->val[i] && strcmp(f->val[i], "1") == 0;
    return 0;
}

void flags_print(FILE *out, const flag_spec *t) {
    if (!t) return;
    for (const flag_spec *s = t; s->name; s++) {
        char left[64];
        if (s->kind == FLAG_STR)
            snprintf(left, sizeof left, "--%s %s", s->name, s->metavar ? s->metavar : "VALUE");
        else
            snprintf(left, sizeof left, "--%s", s->name);
        fprintf(out, "  %-30s %s\n", left, s->help);
    }
}
