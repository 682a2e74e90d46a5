#!/usr/bin/python3
"""tests/cloud/register.py -- idempotent registration for the test cloud.

  register.py keystone STATE_DIR   projects, users, roles, services, endpoints
  register.py cinder STATE_DIR     volume type and group type (as admin)

Standard library only; talks REST to 127.0.0.1. Writes STATE_DIR/ids.json.
Called by tests/cloud/setup; safe to run again at any time.
"""
import json
import os
import sys
import urllib.error
import urllib.request

KEYSTONE = "http://127.0.0.1:5000/v3"
GLANCE = "http://127.0.0.1:9292"
CINDER = "http://127.0.0.1:8776/v3/%(project_id)s"
REGION = "RegionOne"
ADMIN_PASS = "adminpass"
SERVICE_PASS = "servicepass"
DEMO_PASS = "demopass"
VOLUME_TYPE = "snapset-rbd"
GROUP_TYPE = "snapset-cg"
BACKEND = "rbd"
TIMEOUT = float(os.environ.get("CLOUD_HTTP_TIMEOUT", "60"))


class HTTPError(Exception):
    pass


def call(method, url, token=None, body=None, headers=None, want_headers=False):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            raw = r.read()
            out = json.loads(raw) if raw else {}
            return (out, r.headers) if want_headers else out
    except urllib.error.HTTPError as e:
        raise HTTPError("HTTP %d from %s %s: %s" % (
            e.code, method, url, e.read()[:300].decode(errors="replace")))


def token(user, password, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    out, hdrs = call("POST", KEYSTONE + "/auth/tokens", body=body, want_headers=True)
    return hdrs["X-Subject-Token"], out["token"]


def find(tok, coll, **filters):
    """First element of GET /coll?filters whose fields equal filters."""
    q = "&".join("%s=%s" % kv for kv in filters.items())
    items = call("GET", "%s/%s?%s" % (KEYSTONE, coll, q), tok)[coll]
    for it in items:
        if all(it.get(k) == v for k, v in filters.items()):
            return it
    return None


def ensure(tok, coll, single, match, create):
    it = find(tok, coll, **match)
    if it is None:
        it = call("POST", "%s/%s" % (KEYSTONE, coll), tok, {single: create})[single]
    return it


def keystone(state):
    tok, _ = token("admin", ADMIN_PASS, "admin")
    dom = "default"
    roles = {}
    # snapset-backup: the role tests/cloud/setup's Cinder policy lets
    # register (manage) existing RBD snapshots, as an operator grants a
    # backup role (snapshot_extension:snapshot_manage is admin-only).
    for r in ("admin", "member", "reader", "service", "snapset-backup"):
        roles[r] = ensure(tok, "roles", "role", {"name": r}, {"name": r})["id"]
    projects = {}
    for p in ("service", "demo"):
        projects[p] = ensure(tok, "projects", "project", {"name": p},
                             {"name": p, "domain_id": dom,
                              "description": "snapset test cloud"})["id"]
    admin_project = find(tok, "projects", name="admin")["id"]
    users = {}
    for name, pw, proj, rl in (("glance", SERVICE_PASS, "service", ("admin", "service")),
                               ("cinder", SERVICE_PASS, "service", ("admin", "service")),
                               ("demo", DEMO_PASS, "demo", ("member", "reader", "snapset-backup"))):
        u = ensure(tok, "users", "user", {"name": name},
                   {"name": name, "password": pw, "domain_id": dom,
                    "default_project_id": projects[proj]})
        for r in rl:
            call("PUT", "%s/projects/%s/users/%s/roles/%s" % (
                KEYSTONE, projects[proj], u["id"], roles[r]), tok)
        # Repair a changed password or a disabled user, but only then:
        # changing it revokes the user's tokens, and the running
        # cinder-api and glance-api would keep presenting a revoked
        # service token (keystonemiddleware answers 503 until restarted).
        try:
            token(name, pw, proj)
        except HTTPError:
            call("PATCH", "%s/users/%s" % (KEYSTONE, u["id"]), tok,
                 {"user": {"password": pw, "enabled": True}})
        users[name] = u["id"]
    services = {}
    for stype, sname, url in (("image", "glance", GLANCE),
                              ("volumev3", "cinderv3", CINDER),
                              ("block-storage", "cinder", CINDER)):
        svc = ensure(tok, "services", "service", {"type": stype},
                     {"type": stype, "name": sname, "enabled": True})
        services[stype] = svc["id"]
        eps = call("GET", "%s/endpoints?service_id=%s" % (KEYSTONE, svc["id"]), tok)["endpoints"]
        for iface in ("public", "internal", "admin"):
            mine = [e for e in eps if e["interface"] == iface and e.get("region_id") == REGION]
            for extra in mine[1:]:
                call("DELETE", "%s/endpoints/%s" % (KEYSTONE, extra["id"]), tok)
            if not mine:
                call("POST", KEYSTONE + "/endpoints", tok, {"endpoint": {
                    "service_id": svc["id"], "interface": iface, "region_id": REGION,
                    "url": url, "enabled": True}})
            elif mine[0]["url"] != url or not mine[0].get("enabled", True):
                call("PATCH", "%s/endpoints/%s" % (KEYSTONE, mine[0]["id"]), tok,
                     {"endpoint": {"url": url, "enabled": True}})
    ids = load(state)
    ids.update({"projects": dict(projects, admin=admin_project), "users": users,
                "roles": roles, "services": services})
    save(state, ids)
    # The demo user must be able to get a token now.
    token("demo", DEMO_PASS, "demo")


def cinder(state):
    tok, t = token("admin", ADMIN_PASS, "admin")
    base = CINDER % {"project_id": t["project"]["id"]}
    mv = {"OpenStack-API-Version": "volume 3.70"}

    vts = call("GET", base + "/types?is_public=None", tok, headers=mv)["volume_types"]
    vt = next((v for v in vts if v["name"] == VOLUME_TYPE), None)
    if vt is None:
        vt = call("POST", base + "/types", tok, {"volume_type": {
            "name": VOLUME_TYPE, "os-volume-type-access:is_public": True,
            "description": "snapset test cloud: Ceph RBD"}}, mv)["volume_type"]
    # Cinder refuses to change the specs of a type a volume uses ("Volume
    # Type is currently in use"): set them only when they differ, so a
    # setup run while volumes exist (a test of another run) succeeds.
    specs = call("GET", "%s/types/%s/extra_specs" % (base, vt["id"]), tok,
                 headers=mv).get("extra_specs", {})
    if specs.get("volume_backend_name") != BACKEND:
        call("POST", "%s/types/%s/extra_specs" % (base, vt["id"]), tok,
             {"extra_specs": {"volume_backend_name": BACKEND}}, mv)

    gts = call("GET", base + "/group_types", tok, headers=mv)["group_types"]
    gt = next((g for g in gts if g["name"] == GROUP_TYPE), None)
    if gt is None:
        gt = call("POST", base + "/group_types", tok, {"group_type": {
            "name": GROUP_TYPE, "is_public": True,
            "description": "snapset test cloud: consistent group snapshots"}}, mv)["group_type"]
    call("POST", "%s/group_types/%s/group_specs" % (base, gt["id"]), tok,
         {"group_specs": {"consistent_group_snapshot_enabled": "<is> True"}}, mv)

    ids = load(state)
    ids.update({"volume_type": {"name": VOLUME_TYPE, "id": vt["id"]},
                "group_type": {"name": GROUP_TYPE, "id": gt["id"]}})
    save(state, ids)


def load(state):
    try:
        with open(os.path.join(state, "ids.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save(state, ids):
    path = os.path.join(state, "ids.json")
    with open(path + ".tmp", "w") as f:
        json.dump(ids, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("keystone", "cinder"):
        sys.exit("usage: register.py keystone|cinder STATE_DIR")
    try:
        {"keystone": keystone, "cinder": cinder}[sys.argv[1]](sys.argv[2])
    except (HTTPError, OSError, KeyError, StopIteration) as e:
        sys.exit("register.py %s: %s" % (sys.argv[1], e))


if __name__ == "__main__":
    main()
