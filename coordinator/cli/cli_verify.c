/* coordinator/cli/cli_verify.c -- see cli_verify.h. */
#include "coordinator/cli/cli_verify.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/snap_text.h"
#include "coordinator/cli/cli.h"
#include "coordinator/ops/verify.h"

/* @s as a JSON string; a path that is not UTF-8 goes escaped. */
static json_t *
jstr(const char *s)
{
    json_t *j = json_string(s);
    char *esc;

    if (j)
        return j;
    esc = snap_text_escape(s);
    j = esc ? json_string(esc) : NULL;
    free(esc);
    return j;
}

static json_t *
jstrv(char *const *v, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; a && i < n; i++)
        json_array_append_new(a, jstr(v[i]));
    return a;
}

static int
print_json(const ops_verify_report *r)
{
    json_t *arr = json_array();
    char *text;
    size_t i;

    for (i = 0; arr && i < r->nsets; i++) {
        const ops_verify_set *e = &r->sets[i];

        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "set",
                           e->uuid, "status", ops_verify_status_name(e->status),
                           "state", coord_set_state_name(e->state), "checked",
                           (json_int_t)e->nchecked, "problems",
                           jstrv(e->problems, e->nproblems), "dependents",
                           jstrv(e->dependents, e->ndependents), "notes",
                           jstrv(e->notes, e->nnotes)));
    }
    text = arr ? json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(arr);
    if (!text) {
        fprintf(stderr, "snapset: out of memory\n");
        return EXIT_FAILURE;
    }
    printf("%s\n", text);
    free(text);
    return EXIT_SUCCESS;
}

/* "SET  ok" / "SET  broken: <problem>" (more on indented lines) / "SET
 * skipped (state error)"; notes and the sets stacking on a broken one
 * indented below. Problems quote paths: escaped. */
static void
print_text(const ops_verify_report *r)
{
    size_t i, k;

    for (i = 0; i < r->nsets; i++) {
        const ops_verify_set *e = &r->sets[i];

        printf("%s  ", e->uuid);
        if (e->status == OPS_VERIFY_SKIPPED) {
            printf("skipped (state %s)\n", coord_set_state_name(e->state));
        } else if (e->status == OPS_VERIFY_OK) {
            printf("ok\n");
        } else {
            printf("broken: ");
            snap_text_fputs(e->problems[0], stdout);
            putchar('\n');
            for (k = 1; k < e->nproblems; k++) {
                printf("    ");
                snap_text_fputs(e->problems[k], stdout);
                putchar('\n');
            }
        }
        for (k = 0; k < e->nnotes; k++) {
            printf("    note: ");
            snap_text_fputs(e->notes[k], stdout);
            putchar('\n');
        }
        if (e->ndependents) {
            printf("    stacking on it:");
            for (k = 0; k < e->ndependents; k++)
                printf(" %s", e->dependents[k]);
            putchar('\n');
        }
    }
}

/* One line on stderr per broken set, naming the sets it takes with it. */
static void
print_broken(const ops_verify_report *r)
{
    size_t i, k;

    for (i = 0; i < r->nsets; i++) {
        const ops_verify_set *e = &r->sets[i];

        if (e->status != OPS_VERIFY_BROKEN)
            continue;
        fprintf(stderr, "snapset: set %s is broken", e->uuid);
        for (k = 0; k < e->ndependents; k++)
            fprintf(stderr, "%s%s",
                    k ? ", " : "; so are the sets on it: ", e->dependents[k]);
        fputc('\n', stderr);
    }
}

int
cli_cmd_verify(ops_ctx *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"all", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    ops_verify_report r;
    snap_error err = {0};
    bool json = false, all = false;
    int c, rc;

    optind = 0; /* 0: GNU getopt reinitialises, permuting again */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 'a')
            all = true;
        else
            return cli_usage_error("bad option for 'verify'");
    }
    if (all && optind < argc)
        return cli_usage_error("'verify' takes SET... or --all, not both");
    if (!all && optind >= argc)
        return cli_usage_error("'verify' takes SET... or --all");
    if (!ops_verify(ctx, (const char *const *)argv + optind,
                    (size_t)(argc - optind), &r, &err)) {
        ops_verify_report_release(&r);
        return cli_fail(&err);
    }
    if (json) {
        rc = print_json(&r);
    } else {
        print_text(&r);
        rc = EXIT_SUCCESS;
    }
    fflush(stdout);
    if (r.nbroken) {
        print_broken(&r);
        rc = EXIT_FAILURE;
    }
    ops_verify_report_release(&r);
    return rc;
}
