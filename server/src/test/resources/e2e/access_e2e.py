#!/usr/bin/python3
"""End-to-end check with Debian's python3-proxmoxer against a running Corral node.

usage: access_e2e.py HOST PORT ADMIN_PASSWORD
Every check is an assert; the script exits non-zero on the first failure.
"""
import sys
import urllib3
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException
from proxmoxer.backends.https import AuthenticationError

urllib3.disable_warnings()
host, port, admin_password = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def api(**kw):
    return ProxmoxAPI(host, port=port, verify_ssl=False, **kw)


def refused(call, status):
    try:
        call()
    except ResourceException as e:
        assert e.status_code == status, f"expected HTTP {status}, got {e.status_code}: {e}"
        return str(e)
    raise AssertionError(f"expected HTTP {status}, but the call succeeded")


# password login
admin = api(user="admin@pve", password=admin_password)
version = admin.version.get()
assert version["version"].split(".")[0] == "9", version
assert version["product"] == "corral", version
nodes = admin.nodes.get()
assert len(nodes) == 1 and nodes[0]["status"] == "online", nodes
node = nodes[0]["node"]
status = admin.nodes(node).status.get()
assert status["memory"]["total"] > 0 and status["cpuinfo"]["cpus"] >= 1, status
resources = admin.cluster.resources.get()
assert any(r["type"] == "node" and r["id"] == f"node/{node}" for r in resources), resources
assert admin.cluster.resources.get(type="node")[0]["type"] == "node"
print("password login and reads: ok")

# group, users, token with privilege separation, ACL
admin.access.groups.post(groupid="ops", comment="operators")
admin.access.users.post(userid="auditor@pve", password="auditor-pass-1", groups="ops", comment="reads only")
admin.access.acl.put(path="/", roles="PVEAuditor", users="auditor@pve")
admin.access.users.post(userid="robot@pve", password="robot-pass-123")
admin.access.acl.put(path="/", roles="PVEAdmin", users="robot@pve")
token = admin.access.users("robot@pve").token("ci").post(privsep=1, comment="privilege separated")
assert token["full-tokenid"] == "robot@pve!ci", token
secret = token["value"]
groups = [g["groupid"] for g in admin.access.groups.get()]
assert "ops" in groups, groups
users = {u["userid"]: u for u in admin.access.users.get()}
assert "auditor@pve" in users and "robot@pve" in users, users
acl = admin.access.acl.get()
assert any(a["ugid"] == "auditor@pve" and a["roleid"] == "PVEAuditor" for a in acl), acl
print("group, users, token, ACL created: ok")

# an auditor reads but may not write
auditor = api(user="auditor@pve", password="auditor-pass-1")
assert auditor.version.get()["version"]
assert auditor.nodes(node).status.get()["uptime"] >= 0
assert any(r["type"] == "node" for r in auditor.cluster.resources.get())
refused(lambda: auditor.access.groups.post(groupid="nope"), 403)
refused(lambda: auditor.cluster.options.put(keyboard="de"), 403)
print("PVEAuditor reads, 403 on writes: ok")

# a privilege-separated token without an ACL of its own reads /version but may not write
robot = api(user="robot@pve", token_name="ci", token_value=secret)
assert robot.version.get()["version"]
refused(lambda: robot.access.groups.post(groupid="nope2"), 403)
refused(lambda: robot.cluster.options.put(keyboard="de"), 403)
# once the token has its own ACL it may write what both it and its user may
admin.access.acl.put(path="/", roles="PVEAdmin", tokens="robot@pve!ci")
robot.access.groups.post(groupid="robots")
assert "robots" in [g["groupid"] for g in admin.access.groups.get()]
# PVEAdmin does not carry Sys.Modify (only Administrator does), so this stays refused
refused(lambda: robot.cluster.options.put(keyboard="de"), 403)
print("privsep token: 403 without own ACL, allowed with it: ok")

# wrong password and bad input
try:
    api(user="admin@pve", password="wrong")
    raise AssertionError("a wrong password logged in")
except AuthenticationError:
    pass
message = refused(lambda: admin.access.users.post(userid="bad/user@pve", password="x12345678"), 400)
assert "userid" in message, message
print("bad input refused: ok")

# clean up what this script made
admin.access.users("robot@pve").token("ci").delete()
admin.access.users("robot@pve").delete()
admin.access.users("auditor@pve").delete()
admin.access.groups("ops").delete()
admin.access.groups("robots").delete()
admin.cluster.options.put(keyboard="de")
assert admin.cluster.options.get()["keyboard"] == "de"
admin.cluster.options.put(delete="keyboard")
assert "keyboard" not in admin.cluster.options.get()
assert "ops" not in [g["groupid"] for g in admin.access.groups.get()]
print("ALL OK")
