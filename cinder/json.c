/* cinder/json.c -- JSON, error-body, time and URL helpers shared by the
 * cinder module; see cinder_json.h and cinder_priv.h. */
#include "cinder/cinder_json.h"
#include "common/snap_strv.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *
cinder_kv_get(const cinder_kv *kv, size_t n, const char *key)
{
    size_t i;

    if (!kv || !key)
        return NULL;
    for (i = 0; i < n; i++) {
        if (kv[i].key && strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    }
    return NULL;
}

bool
cinder_error_propagate(snap_error *dst, const snap_error *src)
{
    if (dst && src && !snap_error_isset(dst) && snap_error_isset(src))
        *dst = *src;
    return false;
}

void
cinder_kv_array_free(cinder_kv *kv, size_t n)
{
    size_t i;

    if (!kv)
        return;
    for (i = 0; i < n; i++) {
        free((char *)kv[i].key); /* owned by the record */
        free((char *)kv[i].value);
    }
    free(kv);
}

/* Copies @src into @buf as one line: control characters become spaces,
 * runs of spaces collapse, the ends are trimmed. */
static void
one_line(char *buf, size_t size, const char *src, size_t len)
{
    size_t i, o = 0;
    bool space = true; /* drops leading blanks */
    unsigned char ch;

    if (size == 0)
        return;
    for (i = 0; i < len && o + 1 < size; i++) {
        ch = (unsigned char)src[i];
        if (ch == '\0')
            break;
        if (ch < 0x20 || ch == 0x7f || ch == ' ') {
            if (!space)
                buf[o++] = ' ';
            space = true;
            continue;
        }
        buf[o++] = (char)ch;
        space = false;
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
}

bool
cinder_error_message(const char *body, size_t len, char *buf, size_t size)
{
    json_t *root = NULL, *val, *msg;
    const char *key;
    bool found = false;

    if (size > 0)
        buf[0] = '\0';
    if (!body || len == 0)
        return false;
    root = json_loadb(body, len, 0, NULL);
    if (json_is_object(root)) {
        /* OpenStack error bodies: {"badRequest": {"message": "...",
         * "code": 400}} from Cinder, {"error": {"message": ...}} from
         * Keystone; occasionally {"message": "..."} at the top. */
        msg = json_object_get(root, "message");
        if (json_is_string(msg)) {
            one_line(buf, size, json_string_value(msg),
                     json_string_length(msg));
            found = buf[0] != '\0';
        }
        json_object_foreach(root, key, val)
        {
            if (found)
                break;
            msg = json_is_object(val) ? json_object_get(val, "message") : NULL;
            if (json_is_string(msg)) {
                one_line(buf, size, json_string_value(msg),
                         json_string_length(msg));
                found = buf[0] != '\0';
            }
        }
    } else if (!root && len < 200 && body[0] != '<') {
        /* A short plain-text body (proxies, eventlet) is a message too;
         * HTML pages are not worth quoting. */
        one_line(buf, size, body, len);
        found = buf[0] != '\0';
    }
    json_decref(root);
    return found;
}

bool
cinder_reply_error(snap_error *err, const cinder_http_response *resp,
                   const char *what)
{
    char msg[200];
    const char *retry;
    bool have;

    have = cinder_error_message(resp->body, resp->body_len, msg, sizeof(msg));
    if (resp->status == 404)
        return snap_error_set(err, SNAP_E_NOTFOUND, "%s: HTTP 404%s%s", what,
                              have ? ": " : "", have ? msg : "");
    if (resp->status == 413 || resp->status == 429) {
        retry = cinder_http_response_header(resp, "Retry-After");
        return snap_error_set_http(
            err, resp->status,
            "%s: over limit (HTTP %ld, retry after %s s)%s%s", what,
            resp->status, retry ? retry : "?", have ? ": " : "",
            have ? msg : "");
    }
    return snap_error_set_http(err, resp->status, "%s: HTTP %ld%s%s", what,
                               resp->status, have ? ": " : "", have ? msg : "");
}

json_t *
cinder_json_reply(const cinder_http_response *resp, const char *what,
                  snap_error *err)
{
    json_error_t jerr;
    json_t *root;

    if (!resp->body || resp->body_len == 0) {
        snap_error_set(err, SNAP_E_INVALID, "%s: malformed reply: empty body",
                       what);
        return NULL;
    }
    root = json_loadb(resp->body, resp->body_len, 0, &jerr);
    if (!root) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: %s at line %d column %d", what,
                       jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: not a JSON object", what);
        return NULL;
    }
    return root;
}

json_t *
cinder_json_object(json_t *obj, const char *key, const char *what,
                   snap_error *err)
{
    json_t *val = json_object_get(obj, key);

    if (!json_is_object(val)) {
        snap_error_set(err, SNAP_E_INVALID,
                       "%s: malformed reply: no object '%s'", what, key);
        return NULL;
    }
    return val;
}

/* Returns a new string for a scalar @val, NULL for other types; sets
 * *@nomem when allocation failed. */
static char *
scalar_text(json_t *val, bool *nomem)
{
    char buf[64];
    char *s;

    *nomem = false;
    if (json_is_string(val))
        s = strndup(json_string_value(val), json_string_length(val));
    else if (json_is_integer(val)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(val));
        s = strdup(buf);
    } else if (json_is_real(val)) {
        snprintf(buf, sizeof(buf), "%g", json_real_value(val));
        s = strdup(buf);
    } else if (json_is_boolean(val))
        s = strdup(json_is_true(val) ? "true" : "false");
    else
        return NULL;
    if (!s)
        *nomem = true;
    return s;
}

bool
cinder_json_string(json_t *obj, const char *key, bool required, char **out,
                   const char *what, snap_error *err)
{
    json_t *val = json_object_get(obj, key);
    bool nomem;

    *out = NULL;
    if (!val || json_is_null(val)) {
        if (required)
            return snap_error_set(err, SNAP_E_INVALID,
                                  "%s: malformed reply: no '%s'", what, key);
        return true;
    }
    *out = scalar_text(val, &nomem);
    if (nomem)
        return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    if (!*out)
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: '%s' is not a string", what,
                              key);
    return true;
}

int64_t
cinder_json_int(json_t *obj, const char *key, int64_t def)
{
    json_t *val = json_object_get(obj, key);
    const char *s;
    char *end;
    long long v;

    if (json_is_integer(val))
        return (int64_t)json_integer_value(val);
    if (json_is_real(val))
        return (int64_t)json_real_value(val);
    if (json_is_string(val)) {
        s = json_string_value(val);
        v = strtoll(s, &end, 10);
        if (end != s && *end == '\0')
            return (int64_t)v;
    }
    return def;
}

bool
cinder_json_bool(json_t *obj, const char *key, bool def)
{
    json_t *val = json_object_get(obj, key);
    const char *s;

    if (json_is_boolean(val))
        return json_is_true(val);
    if (json_is_string(val)) {
        s = json_string_value(val);
        if (strcasecmp(s, "true") == 0)
            return true;
        if (strcasecmp(s, "false") == 0)
            return false;
    }
    return def;
}

bool
cinder_json_kv(json_t *obj, cinder_kv **kv, size_t *n, const char *what,
               snap_error *err)
{
    cinder_kv *pairs = NULL;
    const char *key;
    json_t *val;
    size_t count = 0, size;
    char *k, *v;
    bool nomem;

    *kv = NULL;
    *n = 0;
    if (!obj || json_is_null(obj))
        return true;
    if (!json_is_object(obj))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: metadata is not an object",
                              what);
    size = json_object_size(obj);
    if (size == 0)
        return true;
    pairs = calloc(size, sizeof(*pairs));
    if (!pairs)
        return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    json_object_foreach(obj, key, val)
    {
        if (json_is_null(val))
            continue;
        v = scalar_text(val, &nomem);
        if (!v && !nomem)
            continue; /* nested values are not metadata; skip them */
        k = strdup(key);
        if (!k || !v) {
            free(k);
            free(v);
            cinder_kv_array_free(pairs, count);
            return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        }
        pairs[count].key = k;
        pairs[count].value = v;
        count++;
    }
    *kv = pairs;
    *n = count;
    return true;
}

bool
cinder_json_strv(json_t *arr, char ***v, size_t *n, const char *what,
                 snap_error *err)
{
    char **out = NULL;
    size_t i, count = 0;
    json_t *el;
    const char *s;

    *v = NULL;
    *n = 0;
    if (!arr || json_is_null(arr))
        return true;
    if (!json_is_array(arr))
        return snap_error_set(err, SNAP_E_INVALID,
                              "%s: malformed reply: expected a list", what);
    if (json_array_size(arr) == 0)
        return true;
    out = calloc(json_array_size(arr), sizeof(*out));
    if (!out)
        return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
    json_array_foreach(arr, i, el)
    {
        s = NULL;
        if (json_is_string(el))
            s = json_string_value(el);
        else if (json_is_object(el) &&
                 json_is_string(json_object_get(el, "id")))
            s = json_string_value(json_object_get(el, "id"));
        if (!s)
            continue;
        out[count] = strdup(s);
        if (!out[count]) {
            snap_strv_free(out, count);
            return snap_error_set(err, SNAP_E_NOMEM, "%s: out of memory", what);
        }
        count++;
    }
    *v = out;
    *n = count;
    return true;
}

json_t *
cinder_json_from_kv(const cinder_kv *kv, size_t n)
{
    json_t *obj = json_object();
    size_t i;

    if (!obj)
        return NULL;
    for (i = 0; i < n; i++) {
        if (!kv[i].key || !kv[i].value)
            continue;
        if (json_object_set_new(obj, kv[i].key, json_string(kv[i].value)) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

char *
cinder_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(s), i, o = 0;
    unsigned char ch;
    char *out;

    out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    for (i = 0; i < len; i++) {
        ch = (unsigned char)s[i];
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
    return out;
}

bool
cinder_id_valid(const char *id)
{
    size_t i;

    if (!id || !id[0] || strlen(id) > 255)
        return false;
    for (i = 0; id[i]; i++) {
        if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_' &&
            id[i] != '.' && id[i] != ':')
            return false;
    }
    return strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

int64_t
cinder_time_parse(const char *s)
{
    struct tm tm;
    int n = 0, frac_digits = 0, zh = 0, zm = 0;
    int64_t ms = 0, wall;
    const char *p;
    time_t secs;

    if (!s)
        return -1;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
        n != 19)
        return -1;
    p = s + n;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (frac_digits < 3) {
                ms = ms * 10 + (*p - '0');
                frac_digits++;
            }
            p++;
        }
        if (frac_digits == 0)
            return -1;
        while (frac_digits++ < 3)
            ms *= 10;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    secs = timegm(&tm);
    if (secs == (time_t)-1)
        return -1;
    wall = (int64_t)secs * 1000 + ms;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        if (sscanf(p + 1, "%2d:%2d", &zh, &zm) != 2 || strlen(p) != 6)
            return -1;
        /* "+02:00" is ahead of UTC: subtract it. */
        wall += (*p == '+' ? -1 : 1) * ((int64_t)zh * 3600 + zm * 60) * 1000;
        p += 6;
    }
    return *p == '\0' ? wall : -1;
}

int
cinder_microversion_parse(const char *s)
{
    char *end;
    long major, minor;

    if (!s)
        return -1;
    if (!s[0])
        return 0;
    major = strtol(s, &end, 10);
    /* Microversions belong to the v3 API and start at 3.0: a "1.70" in the
     * version document would be sent back as "volume 1.70". */
    if (end == s || *end != '.' || major < 3 || major > 99)
        return -1;
    s = end + 1;
    minor = strtol(s, &end, 10);
    if (end == s || *end != '\0' || minor < 0 || minor > 999)
        return -1;
    return (int)CINDER_MV(major, minor);
}

const char *
cinder_microversion_str(int mv, char *buf, size_t size)
{
    snprintf(buf, size, "%d.%d", mv / 1000, mv % 1000);
    return buf;
}

char *
cinder_version_url(const char *endpoint)
{
    const char *p = endpoint, *found = NULL, *scheme;
    char *out;
    size_t len;

    if (!endpoint)
        return NULL;
    /* The last "/v3" path segment, e.g. "http://h:8776/v3/<project>" or a
     * proxy prefix "https://h/volume/v3". */
    scheme = strstr(endpoint, "://");
    p = scheme ? scheme + 3 : endpoint;
    for (;;) {
        p = strstr(p, "/v3");
        if (!p)
            break;
        if (p[3] == '/' || p[3] == '\0')
            found = p;
        p += 3;
    }
    if (!found)
        return NULL;
    len = (size_t)(found - endpoint) + 4; /* through "/v3/" */
    out = malloc(len + 1);
    if (!out)
        return NULL;
    memcpy(out, endpoint, len - 1);
    out[len - 1] = '/';
    out[len] = '\0';
    return out;
}
