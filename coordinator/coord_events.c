/* coordinator/coord_events.c -- see coord_events.h. */
#include "coordinator/coord_events.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/snap_text.h"
#include "common/snap_time.h"

#define FIELD_MAX 256  /* bytes of a member other than "error" */
#define ERROR_MAX 1024 /* bytes of "error" */
#define ACTION_MAX 32  /* bytes of "action" */
#define CHUNK 65536    /* one read() */
#define POLL_BYTES (1024 * 1024)

static const char *const kinds[] = {
    "set",      "copy",  "cinder-snapshot", "volume", "domain",
    "template", "image", "checkpoint",      "job",    "state",
};

struct coord_events {
    char *dir;
    coord_events_opts opts;
};

void
coord_events_opts_init(coord_events_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->max_bytes = COORD_EVENTS_MAX_BYTES_DEFAULT;
    o->keep = COORD_EVENTS_KEEP_DEFAULT;
    o->lock_timeout_ms = COORD_EVENTS_LOCK_TIMEOUT_DEFAULT;
    o->syslog = true;
}

void
coord_events_filter_init(coord_events_filter *f)
{
    memset(f, 0, sizeof(*f));
    f->since_ms = -1;
}

bool
coord_events_kind_valid(const char *kind)
{
    size_t i;

    for (i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kind, kinds[i]) == 0)
            return true;
    return false;
}

const char *
coord_events_actor_token(const char *user, const char *project, char *buf,
                         size_t size)
{
    snprintf(buf, size, "%s@%s", user && user[0] ? user : "-",
             project && project[0] ? project : "-");
    return buf;
}

const char *
coord_events_actor_cli(char *buf, size_t size)
{
    snprintf(buf, size, "cli:%lu", (unsigned long)getuid());
    return buf;
}

coord_events *
coord_events_new(const char *catalog_dir, const coord_events_opts *o,
                 snap_error *err)
{
    coord_events *log;

    if (o && (o->keep < 1 || o->keep > COORD_EVENTS_KEEP_MAX)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "bad number of old audit logs to keep %u: use 1 to %d",
                       o->keep, COORD_EVENTS_KEEP_MAX);
        return NULL;
    }
    if (o && (o->max_bytes < 4096 || o->lock_timeout_ms < 0)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "bad audit log options: at least 4096 bytes a file, "
                       "a lock timeout of 0 or more");
        return NULL;
    }
    log = calloc(1, sizeof(*log));
    if (!log || !(log->dir = strdup(catalog_dir))) {
        free(log);
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        return NULL;
    }
    if (o)
        log->opts = *o;
    else
        coord_events_opts_init(&log->opts);
    return log;
}

void
coord_events_free(coord_events *log)
{
    if (!log)
        return;
    free(log->dir);
    free(log);
}

/* ---- files --------------------------------------------------------------- */

static int
dir_open(const char *dir, snap_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        snap_error_set_errno(err, errno, "cannot open catalog '%s'", dir);
    return fd;
}

/* Opens @name in @dfd never following a symlink, and checks that it is a
 * regular file with one link (a hard link planted under our name could be
 * anyone's file). -1 with @err set; errno ENOENT when it is missing (and
 * @flags does not create). */
static int
file_open(int dfd, const char *dir, const char *name, int flags,
          struct stat *st, snap_error *err)
{
    int fd =
        openat(dfd, name, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    int e = errno;

    if (fd < 0) {
        if (e == ELOOP)
            snap_error_set(err, SNAP_E_STATE,
                           "'%s/%s' is a symlink: refusing to follow it", dir,
                           name);
        else if (e != ENOENT || (flags & O_CREAT))
            snap_error_set_errno(err, e, "cannot open '%s/%s'", dir, name);
        errno = e;
        return -1;
    }
    if (fstat(fd, st) < 0) {
        e = errno;
        snap_error_set_errno(err, e, "cannot stat '%s/%s'", dir, name);
    } else if (!S_ISREG(st->st_mode) || st->st_nlink != 1) {
        e = EPERM;
        snap_error_set(err, SNAP_E_STATE,
                       "'%s/%s' is not a regular file of one link: refusing "
                       "to use it",
                       dir, name);
    } else {
        return fd;
    }
    close(fd);
    errno = e;
    return -1;
}

/* Takes the log's lock within @timeout_ms: a descriptor to close, or -1. */
static int
lock_take(int dfd, const char *dir, int64_t timeout_ms, snap_error *err)
{
    int64_t deadline = snap_now_ms() + timeout_ms;
    struct stat st;
    int fd = file_open(dfd, dir, COORD_EVENTS_LOCK, O_RDWR | O_CREAT, &st, err);

    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            snap_error_set_errno(err, errno, "cannot lock '%s/%s'", dir,
                                 COORD_EVENTS_LOCK);
            break;
        }
        if (snap_now_ms() >= deadline) {
            snap_error_set(err, SNAP_E_BUSY,
                           "the audit log lock '%s/%s' is held for more than "
                           "%lld ms",
                           dir, COORD_EVENTS_LOCK, (long long)timeout_ms);
            break;
        }
        snap_sleep_ms(5);
    }
    if (snap_error_isset(err)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
rotated_name(char *buf, size_t size, unsigned k)
{
    if (k == 0)
        snprintf(buf, size, "%s", COORD_EVENTS_FILE);
    else
        snprintf(buf, size, "%s.%u", COORD_EVENTS_FILE, k);
}

/* events.jsonl.K-1 -> .K for K = keep..2, events.jsonl -> .1, under the
 * lock. Every name must be absent or a regular file first: rename() would
 * not follow a planted symlink, but moving it along would hand it to the
 * readers; refusing leaves it where an administrator finds it. */
static bool
rotate(int dfd, const char *dir, unsigned keep, snap_error *err)
{
    char from[64], to[64];
    struct stat st;
    unsigned k;

    for (k = 1; k <= keep; k++) {
        rotated_name(to, sizeof(to), k);
        if (fstatat(dfd, to, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            return snap_error_set_errno(err, errno, "cannot stat '%s/%s'", dir,
                                        to);
        }
        if (!S_ISREG(st.st_mode))
            return snap_error_set(err, SNAP_E_STATE,
                                  "'%s/%s' is not a regular file (a "
                                  "symlink?): refusing to rotate the audit "
                                  "log over it",
                                  dir, to);
    }
    for (k = keep; k >= 1; k--) {
        rotated_name(from, sizeof(from), k - 1);
        rotated_name(to, sizeof(to), k);
        if (renameat(dfd, from, dfd, to) < 0 && errno != ENOENT)
            return snap_error_set_errno(
                err, errno, "cannot rotate '%s/%s' to '%s'", dir, from, to);
    }
    if (fsync(dfd) < 0)
        return snap_error_set_errno(err, errno, "cannot sync '%s'", dir);
    return true;
}

/* ---- the line ------------------------------------------------------------ */

/* @s (at most @max bytes, cut at a character, "..." marking the cut) as a
 * JSON string; text that is not UTF-8 goes escaped. NULL when out of
 * memory. */
static json_t *
jstr(const char *s, size_t max)
{
    size_t n = strlen(s);
    char *cut = NULL, *esc = NULL;
    json_t *j;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        cut = malloc(n + 4);
        if (!cut)
            return NULL;
        memcpy(cut, s, n);
        memcpy(cut + n, "...", 4);
        s = cut;
    }
    j = json_string(s);
    if (!j) {
        esc = snap_text_escape(s);
        j = esc ? json_string(esc) : NULL;
    }
    free(esc);
    free(cut);
    return j;
}

static bool
put(json_t *o, const char *key, const char *value, size_t max)
{
    return !value || !value[0] ||
           json_object_set_new(o, key, jstr(value, max)) == 0;
}

static bool
action_valid(const char *a)
{
    size_t i;

    if (!a || !a[0] || strlen(a) > ACTION_MAX)
        return false;
    for (i = 0; a[i]; i++)
        if (!islower((unsigned char)a[i]) && !isdigit((unsigned char)a[i]) &&
            a[i] != '-')
            return false;
    return true;
}

static json_t *
event_json(const coord_event *ev, int64_t now_ms)
{
    char t[40];
    json_t *o = json_object();
    bool ok;

    snap_iso8601(now_ms, t, sizeof(t));
    ok = o && json_object_set_new(o, "time", json_string(t)) == 0 &&
         put(o, "actor", ev->actor && ev->actor[0] ? ev->actor : "unknown",
             FIELD_MAX) &&
         put(o, "action", ev->action, FIELD_MAX) &&
         put(o, "kind", ev->kind, FIELD_MAX) &&
         put(o, "id", ev->id, FIELD_MAX) &&
         put(o, "domain", ev->domain, FIELD_MAX) &&
         put(o, "domain_uuid", ev->domain_uuid, FIELD_MAX) &&
         put(o, "result", ev->failed ? "failed" : "ok", FIELD_MAX) &&
         (!ev->failed || put(o, "error", ev->error, ERROR_MAX)) &&
         put(o, "job", ev->job, FIELD_MAX) &&
         put(o, "owner_project", ev->owner_project, FIELD_MAX) &&
         put(o, "owner_project_name", ev->owner_project_name, FIELD_MAX) &&
         put(o, "owner_project_domain", ev->owner_project_domain, FIELD_MAX);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The line for @o: a new string ending in "\n", with a "\n" before it when
 * @lead (the file does not end with one: a writer died mid-line). */
static char *
event_line(const json_t *o, bool lead, size_t *len)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER), *line;
    size_t n;

    if (!text)
        return NULL;
    n = strlen(text);
    line = malloc(n + 3);
    if (line) {
        snprintf(line, n + 3, "%s%s\n", lead ? "\n" : "", text);
        *len = n + 1 + (lead ? 1 : 0);
    }
    free(text);
    return line;
}

/* Sends @o to syslog as one line of printable ASCII: jansson escapes
 * control characters and, with JSON_ENSURE_ASCII, everything past 0x7f;
 * DEL it leaves as it is, so that one is escaped here. */
static void
to_syslog(const json_t *o)
{
    char *text =
        json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    char *safe = NULL, *q;
    const char *p;
    size_t ndel = 0;

    if (!text)
        return;
    for (p = text; *p; p++)
        ndel += *p == 0x7f;
    if (ndel) {
        safe = malloc(strlen(text) + 5 * ndel + 1);
        for (p = text, q = safe; safe && *p; p++) {
            if (*p == 0x7f) {
                memcpy(q, "\\u007f", 6);
                q += 6;
            } else {
                *q++ = *p;
            }
        }
        if (safe)
            *q = '\0';
    }
    /* No openlog(): the process's ident and options are its own; the
     * facility travels in the priority. */
    if (!ndel || safe)
        syslog(LOG_AUTHPRIV | LOG_INFO, "snapset audit %s", safe ? safe : text);
    free(safe);
    free(text);
}

/* Appends @line to the open log @fd (of @size bytes) in one write(); a
 * short write is cut off again so the file still ends at a line. */
static bool
append_line(int fd, const char *path_dir, off_t size, const char *line,
            size_t len, snap_error *err)
{
    ssize_t n;

    do {
        n = write(fd, line, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return snap_error_set_errno(err, errno, "cannot append to '%s/%s'",
                                    path_dir, COORD_EVENTS_FILE);
    if ((size_t)n != len) {
        /* Best effort: the lock keeps others out, so the file is ours to
         * cut back; failing that, readers skip the torn line. */
        (void)ftruncate(fd, size);
        return snap_error_set(err, SNAP_E_SYSTEM,
                              "cannot append to '%s/%s': short write (%zd of "
                              "%zu bytes)",
                              path_dir, COORD_EVENTS_FILE, n, len);
    }
    if (fsync(fd) < 0)
        return snap_error_set_errno(err, errno, "cannot sync '%s/%s'", path_dir,
                                    COORD_EVENTS_FILE);
    return true;
}

/* True when the file @fd of @size bytes ends with a newline (or is
 * empty). */
static bool
ends_at_line(int fd, off_t size)
{
    char c = '\n';

    if (size > 0 && pread(fd, &c, 1, size - 1) != 1)
        return true; /* unknown: the reader copes with a torn line */
    return c == '\n';
}

bool
coord_events_emit(coord_events *log, const coord_event *ev, snap_error *err)
{
    json_t *o = NULL;
    char *line = NULL;
    size_t len = 0;
    int dfd = -1, lfd = -1, fd = -1;
    struct stat st;
    bool ok = false, created;

    if (!action_valid(ev->action))
        return snap_error_set(err, SNAP_E_INVALID,
                              "bad audit event action '%.32s'",
                              ev->action ? ev->action : "");
    if (!coord_events_kind_valid(ev->kind))
        return snap_error_set(err, SNAP_E_INVALID,
                              "bad audit event kind '%.32s'",
                              ev->kind ? ev->kind : "");
    dfd = dir_open(log->dir, err);
    if (dfd < 0)
        goto cleanup;
    lfd = lock_take(dfd, log->dir, log->opts.lock_timeout_ms, err);
    if (lfd < 0)
        goto cleanup;
    /* O_RDWR, not O_WRONLY: ends_at_line() reads the last byte. */
    fd = file_open(dfd, log->dir, COORD_EVENTS_FILE,
                   O_RDWR | O_APPEND | O_CREAT, &st, err);
    if (fd < 0)
        goto cleanup;
    o = event_json(ev, ev->time_ms > 0 ? ev->time_ms : snap_wall_ms());
    line = o ? event_line(o, !ends_at_line(fd, st.st_size), &len) : NULL;
    if (!line) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    if (st.st_size > 0 && (uint64_t)st.st_size + len > log->opts.max_bytes) {
        close(fd);
        fd = -1;
        if (!rotate(dfd, log->dir, log->opts.keep, err))
            goto cleanup;
        fd = file_open(dfd, log->dir, COORD_EVENTS_FILE,
                       O_RDWR | O_APPEND | O_CREAT, &st, err);
        if (fd < 0)
            goto cleanup;
        if (line[0] == '\n') { /* the torn line stays in .1 */
            memmove(line, line + 1, len);
            len--;
        }
    }
    created = st.st_size == 0;
    if (!append_line(fd, log->dir, st.st_size, line, len, err))
        goto cleanup;
    /* A new file's name must survive a crash too. */
    if (created && fsync(dfd) < 0) {
        snap_error_set_errno(err, errno, "cannot sync '%s'", log->dir);
        goto cleanup;
    }
    ok = true;

cleanup:
    if (fd >= 0)
        close(fd);
    if (lfd >= 0)
        close(lfd); /* drops the flock */
    if (dfd >= 0)
        close(dfd);
    /* syslog gets the event even when the file did not: it is the other
     * copy. */
    if (log->opts.syslog && !o)
        o = event_json(ev, ev->time_ms > 0 ? ev->time_ms : snap_wall_ms());
    if (log->opts.syslog && o)
        to_syslog(o);
    json_decref(o);
    free(line);
    return ok;
}

/* ---- time ---------------------------------------------------------------- */

/* @n digits at @s as a number, or -1. */
static int
digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool
parse_rfc3339(const char *s, int64_t *ms)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct tm tm;
    int y, mo, d, h, mi, sec, frac = 0, scale = 100, oh, om, sign;
    const char *p;
    time_t t;

    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return false;
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return false;
    p = s + 19;
    if (*p == '.') {
        if (!isdigit((unsigned char)p[1]))
            return false;
        for (p++; isdigit((unsigned char)*p); p++) {
            frac += (*p - '0') * scale;
            scale /= 10; /* digits past the millisecond are dropped */
        }
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        oh = om = 0;
        sign = 1;
    } else if ((*p == '+' || *p == '-') && p[3] == ':' && p[6] == '\0') {
        sign = *p == '-' ? -1 : 1;
        oh = digits(p + 1, 2);
        om = digits(p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return false;
    } else {
        return false;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return false;
    *ms = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000 + frac;
    return *ms >= 0;
}

bool
coord_events_time_parse(const char *s, int64_t now_ms, int64_t *ms)
{
    size_t n = s ? strspn(s, "0123456789") : 0, i;
    int64_t v = 0, unit;

    if (!s || n == 0)
        return false;
    if (n == 4 && s[4] == '-')
        return parse_rfc3339(s, ms);
    if (n > 15 || (s[n] != '\0' && (n > 9 || s[n + 1] != '\0')))
        return false;
    for (i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    switch (s[n]) {
    case '\0':
        *ms = v; /* since the epoch */
        return true;
    case 's':
        unit = 1000;
        break;
    case 'm':
        unit = 60 * 1000;
        break;
    case 'h':
        unit = 3600 * 1000;
        break;
    case 'd':
        unit = 86400 * 1000;
        break;
    default:
        return false;
    }
    *ms = now_ms - v * unit;
    if (*ms < 0)
        *ms = 0;
    return true;
}

/* ---- reading ------------------------------------------------------------- */

/* Lines of one file, a chunk at a time; what is left of a line at the end
 * of a chunk waits for the next. */
typedef struct line_acc {
    char *buf; /* COORD_EVENTS_LINE_MAX bytes */
    size_t len;
    bool overlong; /* the line being read is past the limit: skip it */
} line_acc;

/* What a read collects. */
typedef struct collector {
    const coord_events_filter *f;
    size_t limit;
    bool newest;   /* keep the newest @limit (a ring), else the first */
    json_t **ring; /* newest: @limit slots */
    size_t n;      /* events kept (ring: how many slots are used) */
    size_t head;   /* ring: the oldest */
    json_t *events;
    size_t nbad;
    bool more;
    bool done; /* the first @limit and one more are in: stop */
} collector;

static bool
collector_init(collector *c, const coord_events_filter *f, bool newest,
               snap_error *err)
{
    memset(c, 0, sizeof(*c));
    c->f = f;
    c->limit = f && f->limit ? f->limit : COORD_EVENTS_LIMIT_DEFAULT;
    if (c->limit > COORD_EVENTS_LIMIT_MAX)
        c->limit = COORD_EVENTS_LIMIT_MAX;
    c->newest = newest;
    c->events = json_array();
    if (newest && c->events)
        c->ring = calloc(c->limit, sizeof(*c->ring));
    if (!c->events || (newest && !c->ring)) {
        json_decref(c->events);
        c->events = NULL;
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    return true;
}

/* Moves what @c kept into @out (the ring in order). */
static bool
collector_finish(collector *c, coord_events_page *out, snap_error *err)
{
    size_t i;
    bool ok = true;

    for (i = 0; c->ring && i < c->n; i++) {
        json_t *e = c->ring[(c->head + i) % c->limit];

        c->ring[(c->head + i) % c->limit] = NULL;
        if (ok && json_array_append_new(c->events, e) < 0)
            ok = false;
        else if (!ok)
            json_decref(e);
    }
    free(c->ring);
    c->ring = NULL;
    if (!ok) {
        json_decref(c->events);
        c->events = NULL;
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    out->events = c->events;
    out->nbad = c->nbad;
    out->more = c->more;
    c->events = NULL;
    return true;
}

static void
collector_release(collector *c)
{
    size_t i;

    for (i = 0; c->ring && i < c->limit; i++)
        json_decref(c->ring[i]);
    free(c->ring);
    json_decref(c->events);
    memset(c, 0, sizeof(*c));
}

static bool
matches(const coord_events_filter *f, json_t *o)
{
    const char *d, *u, *k;

    if (!f)
        return true;
    if (f->domain) {
        d = json_string_value(json_object_get(o, "domain"));
        u = json_string_value(json_object_get(o, "domain_uuid"));
        if ((!d || strcmp(d, f->domain) != 0) &&
            (!u || strcasecmp(u, f->domain) != 0))
            return false;
    }
    k = json_string_value(json_object_get(o, "kind"));
    if (f->kind && (!k || strcmp(k, f->kind) != 0))
        return false;
    return !f->accept || f->accept(f->accept_cls, o);
}

/* One line: kept, left out, or counted bad. False only when out of
 * memory. */
static bool
take_line(collector *c, const char *line, size_t len)
{
    const char *time_s;
    json_t *o;
    int64_t t;

    while (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return true; /* an empty line is no event, nor damage */
    o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    time_s = json_string_value(json_object_get(o, "time"));
    if (!json_is_object(o) || !time_s || !parse_rfc3339(time_s, &t)) {
        json_decref(o);
        c->nbad++;
        return true;
    }
    if ((c->f && c->f->since_ms >= 0 && !c->newest && t < c->f->since_ms) ||
        !matches(c->f, o)) {
        json_decref(o);
        return true;
    }
    if (c->newest) {
        if (c->n == c->limit) {
            json_decref(c->ring[c->head]);
            c->ring[c->head] = o;
            c->head = (c->head + 1) % c->limit;
            c->more = true;
        } else {
            c->ring[(c->head + c->n++) % c->limit] = o;
        }
        return true;
    }
    if (c->n == c->limit) {
        json_decref(o);
        c->more = true;
        c->done = true;
        return true;
    }
    c->n++;
    return json_array_append_new(c->events, o) == 0;
}

/* Feeds @n bytes of @data to @acc, each whole line to @c. */
static bool
feed(line_acc *acc, collector *c, const char *data, size_t n)
{
    const char *nl;
    size_t k;

    while (n > 0 && !c->done) {
        nl = memchr(data, '\n', n);
        k = nl ? (size_t)(nl - data) : n;
        if (!acc->overlong && acc->len + k <= COORD_EVENTS_LINE_MAX) {
            memcpy(acc->buf + acc->len, data, k);
            acc->len += k;
        } else {
            acc->overlong = true;
        }
        if (!nl)
            break;
        if (acc->overlong)
            c->nbad++;
        else if (!take_line(c, acc->buf, acc->len))
            return false;
        acc->len = 0;
        acc->overlong = false;
        data = nl + 1;
        n -= k + 1;
    }
    return true;
}

/* The end of a file: a last line without its newline is torn (a rotated
 * file) or still being written (the current one, @partial_ok). */
static void
feed_end(line_acc *acc, collector *c, bool partial_ok)
{
    if ((acc->len > 0 || acc->overlong) && !partial_ok && !c->done)
        c->nbad++;
    acc->len = 0;
    acc->overlong = false;
}

/* Reads @fd from where it stands up to @end (-1: its end) into @c, at
 * most *@budget bytes (what is read is taken off it); *@eof says whether
 * it got to the end. */
static bool
read_fd(int fd, const char *dir, const char *name, off_t end, size_t *budget,
        line_acc *acc, collector *c, bool *eof, snap_error *err)
{
    char *chunk = malloc(CHUNK);
    off_t pos = lseek(fd, 0, SEEK_CUR);
    size_t want;
    ssize_t n;
    bool ok = true;

    *eof = false;
    if (!chunk)
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    while (!c->done && *budget > 0) {
        want = CHUNK < *budget ? CHUNK : *budget;
        if (end >= 0 && (off_t)want > end - pos)
            want = (size_t)(end - pos);
        if (want == 0) {
            *eof = true;
            break;
        }
        n = read(fd, chunk, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ok = snap_error_set_errno(err, errno, "cannot read '%s/%s'", dir,
                                      name);
            break;
        }
        if (n == 0) {
            *eof = true;
            break;
        }
        pos += n;
        *budget -= (size_t)n;
        if (!feed(acc, c, chunk, (size_t)n)) {
            ok = snap_error_set(err, SNAP_E_NOMEM, "out of memory");
            break;
        }
    }
    free(chunk);
    return ok;
}

/* Where a read stops: the current file as the tail found it. */
typedef struct boundary {
    bool set;
    dev_t dev;
    ino_t ino;
    off_t size;
} boundary;

/* The highest K with events.jsonl.K there (the chain has no gaps). */
static unsigned
oldest_rotated(int dfd)
{
    char name[64];
    struct stat st;
    unsigned k;

    for (k = 1; k <= COORD_EVENTS_KEEP_MAX; k++) {
        rotated_name(name, sizeof(name), k);
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
            break;
    }
    return k - 1;
}

/* Reads the log into @c: the rotated files oldest first, then the current
 * one. With @b set, the file @b names is read up to its size and nothing
 * after it; with @skip_current, the current file is not read (a tail that
 * found none, and follows it from its start). */
static bool
read_all(const char *dir, collector *c, const boundary *b, bool skip_current,
         snap_error *err)
{
    char name[64];
    line_acc acc = {NULL, 0, false};
    struct stat st;
    int dfd, fd;
    unsigned k;
    bool ok = true, eof, last;
    int64_t mtime_ms;
    size_t budget;

    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if (errno == ENOENT)
            return true; /* no catalog: no events */
        return snap_error_set_errno(err, errno, "cannot open catalog '%s'",
                                    dir);
    }
    acc.buf = malloc(COORD_EVENTS_LINE_MAX);
    if (!acc.buf) {
        close(dfd);
        return snap_error_set(err, SNAP_E_NOMEM, "out of memory");
    }
    for (k = oldest_rotated(dfd) + 1; ok && !c->done && k-- > 0;) {
        if (k == 0 && skip_current)
            break;
        rotated_name(name, sizeof(name), k);
        fd = file_open(dfd, dir, name, O_RDONLY, &st, err);
        if (fd < 0) {
            if (errno == ENOENT) /* rotated away meanwhile */
                continue;
            ok = false;
            break;
        }
        last = b->set && st.st_dev == b->dev && st.st_ino == b->ino;
        mtime_ms =
            (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        /* The file's last write came after its last event's time: all of
         * it is older than since. */
        if (!last && !c->newest && c->f && c->f->since_ms > 0 &&
            mtime_ms < c->f->since_ms) {
            close(fd);
            continue;
        }
        budget = SIZE_MAX;
        ok = read_fd(fd, dir, name, last ? b->size : -1, &budget, &acc, c, &eof,
                     err);
        feed_end(&acc, c, k == 0 || last);
        close(fd);
        if (last)
            break;
    }
    free(acc.buf);
    close(dfd);
    return ok;
}

void
coord_events_page_release(coord_events_page *p)
{
    if (!p)
        return;
    json_decref(p->events);
    memset(p, 0, sizeof(*p));
}

static bool
read_into(const char *dir, const coord_events_filter *f, const boundary *b,
          bool skip_current, coord_events_page *out, snap_error *err)
{
    collector c;
    bool ok;

    memset(out, 0, sizeof(*out));
    if (!collector_init(&c, f, !f || f->since_ms < 0, err))
        return false;
    ok = read_all(dir, &c, b, skip_current, err) &&
         collector_finish(&c, out, err);
    collector_release(&c);
    return ok;
}

bool
coord_events_read(const char *catalog_dir, const coord_events_filter *f,
                  coord_events_page *out, snap_error *err)
{
    boundary b = {false, 0, 0, 0};

    return read_into(catalog_dir, f, &b, false, out, err);
}

/* ---- following ----------------------------------------------------------- */

struct coord_events_tail {
    char *dir;
    int fd;    /* the file being followed, or -1 (none yet) */
    dev_t dev; /* its identity */
    ino_t ino;
    bool draining; /* rotated away: read to its end, then the new one */
    line_acc acc;
};

void
coord_events_tail_free(coord_events_tail *t)
{
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    free(t->acc.buf);
    free(t->dir);
    free(t);
}

coord_events_tail *
coord_events_tail_new(const char *catalog_dir, const coord_events_filter *f,
                      coord_events_page *history, snap_error *err)
{
    coord_events_tail *t = calloc(1, sizeof(*t));
    boundary b = {false, 0, 0, 0};
    struct stat st;
    int dfd = -1, lfd = -1;
    bool ok = false;

    memset(history, 0, sizeof(*history));
    if (!t || !(t->dir = strdup(catalog_dir)) ||
        !(t->acc.buf = malloc(COORD_EVENTS_LINE_MAX))) {
        snap_error_set(err, SNAP_E_NOMEM, "out of memory");
        goto cleanup;
    }
    t->fd = -1;
    dfd = dir_open(catalog_dir, err);
    if (dfd < 0)
        goto cleanup;
    /* Under the lock the file ends at a whole line: that end is where the
     * history stops and the tail starts. */
    lfd = lock_take(dfd, catalog_dir, COORD_EVENTS_LOCK_TIMEOUT_DEFAULT, err);
    if (lfd < 0)
        goto cleanup;
    t->fd = file_open(dfd, catalog_dir, COORD_EVENTS_FILE, O_RDONLY, &st, err);
    if (t->fd < 0 && errno != ENOENT)
        goto cleanup;
    if (t->fd >= 0) {
        b.set = true;
        b.dev = t->dev = st.st_dev;
        b.ino = t->ino = st.st_ino;
        b.size = st.st_size;
        if (lseek(t->fd, st.st_size, SEEK_SET) < 0) {
            snap_error_set_errno(err, errno, "cannot seek '%s/%s'", catalog_dir,
                                 COORD_EVENTS_FILE);
            goto cleanup;
        }
    }
    close(lfd);
    lfd = -1;
    ok = read_into(catalog_dir, f, &b, !b.set, history, err);

cleanup:
    if (lfd >= 0)
        close(lfd);
    if (dfd >= 0)
        close(dfd);
    if (!ok) {
        coord_events_tail_free(t);
        t = NULL;
    }
    return t;
}

/* Whether events.jsonl is still the file @t follows: 1 yes, 0 no (gone or
 * another file), -1 with @err set (a symlink now). */
static int
still_current(coord_events_tail *t, snap_error *err)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", t->dir, COORD_EVENTS_FILE);
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        snap_error_set_errno(err, errno, "cannot stat '%s'", path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snap_error_set(err, SNAP_E_STATE,
                       "'%s' is not a regular file (a symlink?): refusing to "
                       "follow it",
                       path);
        return -1;
    }
    return st.st_dev == t->dev && st.st_ino == t->ino;
}

bool
coord_events_tail_poll(coord_events_tail *t, const coord_events_filter *f,
                       coord_events_page *out, snap_error *err)
{
    coord_events_filter g;
    collector c;
    struct stat st;
    size_t budget = POLL_BYTES;
    int dfd, cur;
    bool ok = true, eof = false;

    memset(out, 0, sizeof(*out));
    if (f)
        g = *f;
    else
        coord_events_filter_init(&g);
    g.since_ms = -1;
    /* Not a ring: everything read is returned, bounded by the bytes. */
    if (!collector_init(&c, &g, false, err))
        return false;
    c.limit = SIZE_MAX;
    for (;;) {
        if (t->fd < 0) {
            dfd = dir_open(t->dir, err);
            if (dfd < 0) {
                ok = false;
                break;
            }
            t->fd =
                file_open(dfd, t->dir, COORD_EVENTS_FILE, O_RDONLY, &st, err);
            close(dfd);
            if (t->fd < 0) {
                ok = errno == ENOENT; /* not made again yet */
                break;
            }
            t->dev = st.st_dev;
            t->ino = st.st_ino;
            t->draining = false;
        }
        ok = read_fd(t->fd, t->dir, COORD_EVENTS_FILE, -1, &budget, &t->acc, &c,
                     &eof, err);
        if (!ok)
            break;
        if (!eof) {
            c.more = true; /* the budget ran out */
            break;
        }
        if (t->draining) {
            feed_end(&t->acc, &c, false);
            close(t->fd);
            t->fd = -1;
            continue;
        }
        cur = still_current(t, err);
        if (cur < 0) {
            ok = false;
            break;
        }
        if (cur)
            break;
        /* Rotated. The old file may have got lines between the end just
         * read and the rename, never after it (appends and the rename
         * happen under the lock): read it to its end once more, then go on
         * to the new one. */
        t->draining = true;
    }
    ok = ok && collector_finish(&c, out, err);
    collector_release(&c);
    return ok;
}
