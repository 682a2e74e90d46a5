/* tests/unit/test_coord_events.c -- the audit log: the line, rotation at
 * its size bound, two processes appending at once, planted symlinks, bad
 * lines, filters and paging, following the log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/snap_fs.h"
#include "common/snap_time.h"
#include "coordinator/coord_events.h"

#define VM_UUID "6d2c3b0e-5f35-4a3b-9a62-2f1e0f7a1c11"

static char dir[] = "/tmp/snapset-events-XXXXXX";

static int
setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/snapset-events-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void
path_of(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static char *
read_text(const char *name, size_t *len)
{
    char path[600];
    char *text;

    path_of(path, sizeof(path), name);
    text = snap_file_read(path, 64 * 1024 * 1024, len, NULL);
    assert_non_null(text);
    return text;
}

static void
write_text(const char *name, const char *text)
{
    char path[600];

    path_of(path, sizeof(path), name);
    assert_true(snap_file_write_atomic(path, text, strlen(text), 0600, NULL));
}

static coord_events *
log_new(uint64_t max_bytes, unsigned keep)
{
    coord_events_opts o;
    coord_events *log;

    coord_events_opts_init(&o);
    o.syslog = false;
    if (max_bytes)
        o.max_bytes = max_bytes;
    if (keep)
        o.keep = keep;
    log = coord_events_new(dir, &o, NULL);
    assert_non_null(log);
    return log;
}

/* Emits a "create" of the set "s-@seq" (actor @actor). */
static void
emit_seq(coord_events *log, const char *actor, int seq, int64_t time_ms)
{
    char id[32];
    coord_event ev = {0};
    snap_error err = {0};

    snprintf(id, sizeof(id), "s-%d", seq);
    ev.time_ms = time_ms;
    ev.actor = actor;
    ev.action = "create";
    ev.kind = "set";
    ev.id = id;
    ev.domain = "web1";
    if (!coord_events_emit(log, &ev, &err))
        fail_msg("emit %d: %s", seq, err.msg);
}

static int
seq_of(const json_t *e)
{
    const char *id = json_string_value(json_object_get(e, "id"));

    assert_non_null(id);
    return atoi(id + 2);
}

static const char *
member(const json_t *e, const char *key)
{
    return json_string_value(json_object_get(e, key));
}

static void
read_all(coord_events_page *p)
{
    coord_events_filter f;
    snap_error err = {0};

    coord_events_filter_init(&f);
    f.limit = COORD_EVENTS_LIMIT_MAX;
    if (!coord_events_read(dir, &f, p, &err))
        fail_msg("read: %s", err.msg);
}

static void
an_event_is_one_json_line_with_its_members(void **state)
{
    coord_events *log = log_new(0, 0);
    char error[3000], actor[64], path[600];
    coord_event ev = {0};
    snap_error err = {0};
    struct stat st;
    json_t *o, *keys;
    size_t len, i;
    char *text;
    const char *t;

    (void)state;
    memset(error, 'x', sizeof(error) - 1);
    error[sizeof(error) - 1] = '\0';
    memcpy(error, "line\nbreak \x1b[2J \xff", 17);
    ev.actor = coord_events_actor_token("u-42", "p-1234", actor, sizeof(actor));
    ev.action = "create";
    ev.kind = "set";
    ev.id = "aaaaaaaa-0000-4000-8000-000000000001";
    ev.domain = "web1";
    ev.domain_uuid = VM_UUID;
    ev.failed = true;
    ev.error = error;
    ev.job = "bbbbbbbb-0000-4000-8000-000000000002";
    ev.owner_project = "p-1234";
    assert_true(coord_events_emit(log, &ev, &err));
    /* a second one: only what is set, a result of ok */
    memset(&ev, 0, sizeof(ev));
    ev.action = "delete";
    ev.kind = "cinder-snapshot";
    ev.id = "c-1";
    assert_true(coord_events_emit(log, &ev, &err));

    path_of(path, sizeof(path), COORD_EVENTS_FILE);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    text = read_text(COORD_EVENTS_FILE, &len);
    assert_int_equal(text[len - 1], '\n');
    assert_non_null(strchr(text, '\n'));
    assert_ptr_equal(strchr(strchr(text, '\n') + 1, '\n'), text + len - 1);
    o = json_loadb(text, (size_t)(strchr(text, '\n') - text), 0, NULL);
    assert_non_null(o);
    /* the members in their order */
    keys = json_pack("[s,s,s,s,s,s,s,s,s,s,s]", "time", "actor", "action",
                     "kind", "id", "domain", "domain_uuid", "result", "error",
                     "job", "owner_project");
    assert_int_equal(json_object_size(o), json_array_size(keys));
    for (i = 0; i < json_array_size(keys); i++)
        assert_non_null(
            json_object_get(o, json_string_value(json_array_get(keys, i))));
    assert_true(strncmp(text, "{\"time\":", 8) == 0);
    json_decref(keys);
    t = member(o, "time");
    assert_int_equal(strlen(t), 24); /* 2026-11-22T04:39:24.123Z */
    assert_int_equal(t[10], 'T');
    assert_int_equal(t[19], '.');
    assert_int_equal(t[23], 'Z');
    assert_true(llabs(snap_iso8601_parse(t) - snap_wall_ms()) < 60000);
    assert_string_equal(member(o, "actor"), "u-42@p-1234");
    assert_string_equal(member(o, "result"), "failed");
    assert_string_equal(member(o, "domain"), "web1");
    assert_string_equal(member(o, "owner_project"), "p-1234");
    /* the error: cut at 1024 bytes, not UTF-8 escaped, still one line */
    assert_true(strlen(member(o, "error")) <= 1100);
    assert_non_null(strstr(member(o, "error"), "..."));
    /* not UTF-8: escaped whole, the newline too */
    assert_non_null(strstr(member(o, "error"), "line\\nbreak"));
    assert_non_null(strstr(member(o, "error"), "\\xff"));
    json_decref(o);
    o = json_loads(strchr(text, '\n') + 1, 0, NULL);
    assert_non_null(o);
    assert_string_equal(member(o, "actor"), "unknown");
    assert_string_equal(member(o, "result"), "ok");
    assert_string_equal(member(o, "kind"), "cinder-snapshot");
    assert_null(json_object_get(o, "error"));
    assert_null(json_object_get(o, "domain"));
    assert_null(json_object_get(o, "job"));
    json_decref(o);
    free(text);
    assert_string_equal(coord_events_actor_token(NULL, "p", actor, 64), "-@p");
    assert_true(strncmp(coord_events_actor_cli(actor, 64), "cli:", 4) == 0);
    coord_events_free(log);
}

static void
bad_events_and_options_are_refused(void **state)
{
    coord_events *log = log_new(0, 0);
    coord_events_opts o;
    coord_event ev = {0};
    snap_error err = {0};
    char path[600];

    (void)state;
    ev.kind = "set";
    assert_false(coord_events_emit(log, &ev, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    memset(&err, 0, sizeof(err));
    ev.action = "Create Now";
    assert_false(coord_events_emit(log, &ev, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    memset(&err, 0, sizeof(err));
    ev.action = "create";
    ev.kind = "sets";
    assert_false(coord_events_emit(log, &ev, &err));
    assert_non_null(strstr(err.msg, "bad audit event kind 'sets'"));
    path_of(path, sizeof(path), COORD_EVENTS_FILE);
    assert_false(snap_path_exists(path)); /* nothing written */
    coord_events_free(log);

    coord_events_opts_init(&o);
    o.keep = 0;
    memset(&err, 0, sizeof(err));
    assert_null(coord_events_new(dir, &o, &err));
    assert_int_equal(err.code, SNAP_E_INVALID);
    coord_events_opts_init(&o);
    o.max_bytes = 10;
    assert_null(coord_events_new(dir, &o, NULL));
    /* a catalog that is not there: the append fails, reading is empty */
    log = coord_events_new("/nonexistent/snapset", NULL, NULL);
    assert_non_null(log);
    ev.kind = "set";
    memset(&err, 0, sizeof(err));
    assert_false(coord_events_emit(log, &ev, &err));
    assert_int_equal(err.code, SNAP_E_SYSTEM);
    coord_events_free(log);
    assert_true(coord_events_kind_valid("checkpoint"));
    assert_false(coord_events_kind_valid(NULL));
}

static void
rotation_keeps_n_files_and_reads_across_them_in_order(void **state)
{
    coord_events *log = log_new(4096, 2);
    coord_events_page p = {0};
    char path[600], name[64];
    struct stat st;
    size_t i;
    int n = 200, first;

    (void)state;
    for (i = 0; i < (size_t)n; i++)
        emit_seq(log, "cli:0", (int)i, 0);
    for (i = 0; i <= 3; i++) {
        snprintf(name, sizeof(name), i ? "%s.%zu" : "%s", COORD_EVENTS_FILE, i);
        path_of(path, sizeof(path), name);
        if (i == 3) {
            assert_int_equal(lstat(path, &st), -1); /* keep = 2 */
            break;
        }
        assert_int_equal(lstat(path, &st), 0);
        assert_true(st.st_size > 0);
        assert_true(st.st_size <= 4096);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
    read_all(&p);
    assert_int_equal(p.nbad, 0);
    assert_false(p.more);
    assert_true(json_array_size(p.events) > 40);
    assert_true(json_array_size(p.events) < (size_t)n); /* the oldest went */
    first = seq_of(json_array_get(p.events, 0));
    for (i = 0; i < json_array_size(p.events); i++)
        assert_int_equal(seq_of(json_array_get(p.events, i)), first + (int)i);
    assert_int_equal(first + (int)json_array_size(p.events), n);
    coord_events_page_release(&p);
    coord_events_free(log);
}

/* Two processes append 400 lines each, rotating every ~16 KiB: every line
 * is there once, whole, each writer's in its order. */
static void
two_processes_appending_at_once_lose_and_interleave_nothing(void **state)
{
    const int per = 400;
    coord_events_page p = {0};
    pid_t pid[2];
    int i, k, status, next[2] = {0, 0};
    size_t j;

    (void)state;
    for (k = 0; k < 2; k++) {
        pid[k] = fork();
        assert_true(pid[k] >= 0);
        if (pid[k] == 0) {
            coord_events *log = log_new(16384, 40);
            char actor[16];

            snprintf(actor, sizeof(actor), "w%d", k);
            for (i = 0; i < per; i++) {
                char id[32];
                coord_event ev = {0};

                snprintf(id, sizeof(id), "s-%d", i);
                ev.actor = actor;
                ev.action = "create";
                ev.kind = "set";
                ev.id = id;
                if (!coord_events_emit(log, &ev, NULL))
                    _exit(1);
            }
            coord_events_free(log);
            _exit(0);
        }
    }
    for (k = 0; k < 2; k++) {
        assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    read_all(&p);
    assert_int_equal(p.nbad, 0);
    assert_int_equal(json_array_size(p.events), 2 * per);
    for (j = 0; j < json_array_size(p.events); j++) {
        const json_t *e = json_array_get(p.events, j);
        const char *a = member(e, "actor");

        k = a[1] - '0';
        assert_int_equal(seq_of(e), next[k]);
        next[k]++;
    }
    assert_int_equal(next[0], per);
    assert_int_equal(next[1], per);
    coord_events_page_release(&p);
}

static void
a_symlink_at_the_log_is_refused_and_never_written_through(void **state)
{
    coord_events *log = log_new(0, 0);
    coord_events_page p = {0};
    char path[600], target[600];
    coord_event ev = {0};
    snap_error err = {0};
    size_t len;
    char *text;

    (void)state;
    write_text("target", "precious\n");
    path_of(target, sizeof(target), "target");
    path_of(path, sizeof(path), COORD_EVENTS_FILE);
    assert_int_equal(symlink(target, path), 0);
    ev.action = "delete";
    ev.kind = "set";
    assert_false(coord_events_emit(log, &ev, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "is a symlink"));
    text = read_text("target", &len);
    assert_string_equal(text, "precious\n");
    free(text);
    /* reading refuses it too */
    memset(&err, 0, sizeof(err));
    assert_false(coord_events_read(dir, NULL, &p, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(unlink(path), 0);

    /* a hard link to someone's file */
    assert_int_equal(link(target, path), 0);
    memset(&err, 0, sizeof(err));
    assert_false(coord_events_emit(log, &ev, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_int_equal(unlink(path), 0);

    /* a symlink at the lock */
    path_of(path, sizeof(path), COORD_EVENTS_LOCK);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(target, path), 0);
    memset(&err, 0, sizeof(err));
    assert_false(coord_events_emit(log, &ev, &err));
    assert_int_equal(err.code, SNAP_E_STATE);
    text = read_text("target", &len);
    assert_string_equal(text, "precious\n");
    free(text);
    coord_events_free(log);
}

static void
a_symlink_at_a_rotated_name_stops_the_rotation(void **state)
{
    coord_events *log = log_new(4096, 3);
    char path[600], target[600];
    coord_event ev = {0};
    snap_error err = {0};
    size_t len, before;
    char *text;
    int i;

    (void)state;
    write_text("target", "precious\n");
    path_of(target, sizeof(target), "target");
    for (i = 0; i < 20; i++)
        emit_seq(log, "cli:0", i, 0);
    text = read_text(COORD_EVENTS_FILE, &before);
    free(text);
    path_of(path, sizeof(path), COORD_EVENTS_FILE ".1");
    assert_int_equal(symlink(target, path), 0);
    ev.action = "create";
    ev.kind = "set";
    for (i = 0; i < 40 && coord_events_emit(log, &ev, &err); i++)
        ;
    assert_true(i < 40); /* the rotation came, and failed */
    assert_int_equal(err.code, SNAP_E_STATE);
    assert_non_null(strstr(err.msg, "refusing to rotate"));
    text = read_text("target", &len);
    assert_string_equal(text, "precious\n");
    free(text);
    /* the symlink stays where it was, the log did not move */
    assert_int_equal(readlink(path, target, sizeof(target)) > 0, 1);
    text = read_text(COORD_EVENTS_FILE, &len);
    assert_true(len >= before);
    free(text);
    coord_events_free(log);
}

static void
bad_lines_are_skipped_and_counted(void **state)
{
    coord_events *log = log_new(0, 0);
    coord_events_page p = {0};
    char *big = malloc(COORD_EVENTS_LINE_MAX + 100);
    char *text;
    size_t len;

    (void)state;
    assert_non_null(big);
    memset(big, ' ', COORD_EVENTS_LINE_MAX + 99);
    big[COORD_EVENTS_LINE_MAX + 99] = '\0';
    memcpy(big, "{\"time\": \"2026-01-01T00:00:00.000Z\", \"x\": \"", 44);
    big[COORD_EVENTS_LINE_MAX + 97] = '"';
    big[COORD_EVENTS_LINE_MAX + 98] = '}';
    write_text(COORD_EVENTS_FILE ".1",
               "{\"time\": \"2026-01-01T00:00:00.000Z\", \"id\": \"s-1\"}\n"
               "not json\n"
               "[1, 2]\n"
               "\n"
               "{\"id\": \"no time\"}\n"
               "{\"time\": \"yesterday\"}\n"
               "{\"time\": \"2026-01-01T00:00:01.000Z\", \"id\": \"s-2\"}\n"
               "{\"time\": \"2026-01-01T00:00:02.000Z\", \"id\": \"torn");
    text = malloc(strlen(big) + 200);
    assert_non_null(text);
    snprintf(text, strlen(big) + 200,
             "%s\n{\"time\": \"2026-01-01T00:00:03.000Z\", \"id\": \"s-3\"}\n"
             "{\"time\": \"2026-01-01T00:00:04.0",
             big);
    write_text(COORD_EVENTS_FILE, text);
    free(text);
    free(big);
    read_all(&p);
    /* not json, [1,2], no time, a bad time, torn, too long; the last line
     * of the current file is being written: not counted */
    assert_int_equal(p.nbad, 6);
    assert_int_equal(json_array_size(p.events), 3);
    assert_int_equal(seq_of(json_array_get(p.events, 0)), 1);
    assert_int_equal(seq_of(json_array_get(p.events, 2)), 3);
    coord_events_page_release(&p);

    /* an append after a writer that died mid-line starts a line of its
     * own: the torn one is one bad line */
    emit_seq(log, "cli:0", 4, 0);
    read_all(&p);
    assert_int_equal(p.nbad, 7);
    assert_int_equal(json_array_size(p.events), 4);
    assert_int_equal(seq_of(json_array_get(p.events, 3)), 4);
    coord_events_page_release(&p);
    text = read_text(COORD_EVENTS_FILE, &len);
    assert_int_equal(text[len - 1], '\n');
    free(text);
    coord_events_free(log);
}

static bool
accept_odd(void *cls, const json_t *e)
{
    (void)cls;
    return seq_of(e) % 2 == 1;
}

static void
filters_pick_by_domain_kind_and_time_and_page_forward(void **state)
{
    coord_events *log = log_new(0, 0);
    const int64_t t0 = 1763786364000LL;
    coord_events_filter f;
    coord_events_page p = {0};
    coord_event ev = {0};
    int i;

    (void)state;
    for (i = 0; i < 10; i++)
        emit_seq(log, "cli:0", i, t0 + i * 1000);
    ev.time_ms = t0 + 10000;
    ev.action = "delete";
    ev.kind = "volume";
    ev.id = "s-10";
    ev.domain = "db1";
    ev.domain_uuid = VM_UUID;
    assert_true(coord_events_emit(log, &ev, NULL));

    coord_events_filter_init(&f);
    f.domain = "db1";
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 1);
    coord_events_page_release(&p);
    f.domain = "6D2C3B0E-5F35-4A3B-9A62-2F1E0F7A1C11"; /* any case */
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 1);
    coord_events_page_release(&p);
    f.domain = "web1";
    f.kind = "volume";
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 0);
    coord_events_page_release(&p);
    f.kind = "set";
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 10);
    coord_events_page_release(&p);

    /* no since: the newest @limit, oldest first */
    coord_events_filter_init(&f);
    f.limit = 3;
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 3);
    assert_int_equal(seq_of(json_array_get(p.events, 0)), 8);
    assert_int_equal(seq_of(json_array_get(p.events, 2)), 10);
    assert_true(p.more);
    coord_events_page_release(&p);

    /* since: pages forward, the boundary millisecond included */
    f.since_ms = t0 + 2000;
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 3);
    assert_int_equal(seq_of(json_array_get(p.events, 0)), 2);
    assert_int_equal(seq_of(json_array_get(p.events, 2)), 4);
    assert_true(p.more);
    coord_events_page_release(&p);
    f.since_ms = t0 + 8000;
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 3);
    assert_int_equal(seq_of(json_array_get(p.events, 0)), 8);
    assert_false(p.more);
    coord_events_page_release(&p);
    f.since_ms = t0 + 60000;
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 0);
    coord_events_page_release(&p);

    /* what accept leaves out does not count against the limit */
    f.since_ms = 0;
    f.accept = accept_odd;
    assert_true(coord_events_read(dir, &f, &p, NULL));
    assert_int_equal(json_array_size(p.events), 3);
    assert_int_equal(seq_of(json_array_get(p.events, 0)), 1);
    assert_int_equal(seq_of(json_array_get(p.events, 2)), 5);
    coord_events_page_release(&p);
    coord_events_free(log);
}

static void
times_parse_as_rfc3339_milliseconds_or_ago(void **state)
{
    int64_t ms = 0, now = 1763786364123LL;

    (void)state;
    assert_true(coord_events_time_parse("2025-11-22T04:39:24.123Z", now, &ms));
    assert_int_equal(ms, 1763786364123LL);
    assert_true(coord_events_time_parse("2025-11-22T04:39:24Z", now, &ms));
    assert_int_equal(ms, 1763786364000LL);
    assert_true(
        coord_events_time_parse("2025-11-22t05:39:24.5+01:00", now, &ms));
    assert_int_equal(ms, 1763786364500LL);
    assert_true(
        coord_events_time_parse("2025-11-22T04:39:24.123456Z", now, &ms));
    assert_int_equal(ms, 1763786364123LL);
    assert_true(coord_events_time_parse("1763786364123", now, &ms));
    assert_int_equal(ms, 1763786364123LL);
    assert_true(coord_events_time_parse("15m", now, &ms));
    assert_int_equal(ms, now - 15 * 60000);
    assert_true(coord_events_time_parse("2d", now, &ms));
    assert_int_equal(ms, now - 2 * 86400000LL);
    assert_false(coord_events_time_parse("", now, &ms));
    assert_false(coord_events_time_parse(NULL, now, &ms));
    assert_false(coord_events_time_parse("yesterday", now, &ms));
    assert_false(coord_events_time_parse("15x", now, &ms));
    assert_false(coord_events_time_parse("15mm", now, &ms));
    assert_false(coord_events_time_parse("-5", now, &ms));
    assert_false(coord_events_time_parse("2025-13-01T00:00:00Z", now, &ms));
    assert_false(coord_events_time_parse("2025-11-22T04:39:24", now, &ms));
    assert_false(coord_events_time_parse("2025-11-22T04:39:24.Z", now, &ms));
    assert_false(coord_events_time_parse("2025-11-22T24:00:00Z", now, &ms));
    assert_false(coord_events_time_parse("2025-11-22T04:39:24+1:00", now, &ms));
    assert_false(coord_events_time_parse("1234567890123456", now, &ms));
}

static void
a_tail_returns_what_came_next_across_a_rotation(void **state)
{
    coord_events *log = log_new(4096, 4);
    coord_events_tail *t;
    coord_events_filter f;
    coord_events_page h = {0}, p = {0};
    snap_error err = {0};
    int i, next = 0, rounds;
    size_t j;

    (void)state;
    coord_events_filter_init(&f);
    /* no log yet */
    t = coord_events_tail_new(dir, &f, &h, &err);
    assert_non_null(t);
    assert_int_equal(json_array_size(h.events), 0);
    coord_events_page_release(&h);
    emit_seq(log, "cli:0", next++, 0);
    assert_true(coord_events_tail_poll(t, &f, &p, &err));
    assert_int_equal(json_array_size(p.events), 1);
    coord_events_page_release(&p);
    coord_events_tail_free(t);

    for (i = 0; i < 5; i++)
        emit_seq(log, "cli:0", next++, 0);
    t = coord_events_tail_new(dir, &f, &h, &err);
    assert_non_null(t);
    assert_int_equal(json_array_size(h.events), 6);
    coord_events_page_release(&h);
    assert_true(coord_events_tail_poll(t, &f, &p, &err));
    assert_int_equal(json_array_size(p.events), 0);
    coord_events_page_release(&p);
    /* about 30 lines a file: a rotation between two polls, and one more */
    for (rounds = 0, i = 6; rounds < 3; rounds++) {
        int upto = next + 25;

        while (next < upto)
            emit_seq(log, "cli:0", next++, 0);
        do {
            assert_true(coord_events_tail_poll(t, &f, &p, &err));
            for (j = 0; j < json_array_size(p.events); j++)
                assert_int_equal(seq_of(json_array_get(p.events, j)), i++);
            assert_int_equal(p.nbad, 0);
            coord_events_page_release(&p);
        } while (p.more);
        assert_int_equal(i, next);
    }
    /* a filter applies */
    f.kind = "volume";
    emit_seq(log, "cli:0", next++, 0);
    assert_true(coord_events_tail_poll(t, &f, &p, &err));
    assert_int_equal(json_array_size(p.events), 0);
    coord_events_page_release(&p);
    coord_events_tail_free(t);
    coord_events_free(log);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(an_event_is_one_json_line_with_its_members),
        T(bad_events_and_options_are_refused),
        T(rotation_keeps_n_files_and_reads_across_them_in_order),
        T(two_processes_appending_at_once_lose_and_interleave_nothing),
        T(a_symlink_at_the_log_is_refused_and_never_written_through),
        T(a_symlink_at_a_rotated_name_stops_the_rotation),
        T(bad_lines_are_skipped_and_counted),
        T(filters_pick_by_domain_kind_and_time_and_page_forward),
        T(times_parse_as_rfc3339_milliseconds_or_ago),
        T(a_tail_returns_what_came_next_across_a_rotation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
