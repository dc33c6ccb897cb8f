#!/usr/bin/python3
"""Proxmox's answers for missing objects and slashed volume ids, seen by python3-proxmoxer.

usage: answers_e2e.py HOST PORT ADMIN_PASSWORD
Ansible's modules and Terraform providers decide "absent" from HTTP 500 and "... does not exist"
(or "no such user"); a 404 or a 501 "not implemented" makes them fail instead.
"""
import sys
import tempfile
import time
import urllib3
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

urllib3.disable_warnings()
host, port, admin_password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
admin = ProxmoxAPI(host, port=port, verify_ssl=False, user="admin@pve", password=admin_password)
node = admin.nodes.get()[0]["node"]


def refused(call, status, text):
    try:
        call()
    except ResourceException as e:
        assert e.status_code == status, f"expected HTTP {status}, got {e.status_code}: {e}"
        assert text in str(e), f"expected {text!r} in {e}"
        return
    raise AssertionError(f"expected HTTP {status}, but the call succeeded")


refused(lambda: admin.storage("nosuch").get(), 500, "storage 'nosuch' does not exist")
refused(lambda: admin.pools("test").get(), 500, "pool 'test' does not exist")
refused(lambda: admin.pools.get(poolid="test"), 500, "pool 'test' does not exist")
refused(lambda: admin.access.users("nobody@pve").get(), 500, "no such user ('nobody@pve')")
refused(lambda: admin.nodes(node).lxc(9199).config.get(), 500,
        f"Configuration file 'nodes/{node}/lxc/9199.conf' does not exist")
refused(lambda: admin.nodes(node).qemu(9199).config.get(), 500,
        f"Configuration file 'nodes/{node}/qemu-server/9199.conf' does not exist")
refused(lambda: admin.nodes(node).qemu(9199).status.current.get(), 500,
        f"Configuration file 'nodes/{node}/qemu-server/9199.conf' does not exist")
refused(lambda: admin.nodes(node).storage("local").content("local:iso/none.iso").get(), 500, "does not exist")
# a path nothing declares is still "not implemented"
refused(lambda: admin.nodes(node).nosuchthing.get(), 501, "not implemented")
print("missing objects: ok")

# upload an ISO, then read and delete it with the volume id's slash left unencoded, as proxmoxer sends it
with tempfile.NamedTemporaryFile(suffix=".iso") as f:
    f.write(b"\0" * 4096)
    f.flush()
    with open(f.name, "rb") as data:
        upid = admin.nodes(node).storage("local").upload.post(content="iso", filename=data)
info = admin.nodes(node).storage("local").content(f"local:iso/{f.name.split('/')[-1]}").get()
assert info["size"] == 4096, info
volid = f"local:iso/{f.name.split('/')[-1]}"
upid = admin.nodes(node).storage("local").content(volid).delete()
# the delete runs as a task, as in Proxmox; wait for it like a client does
for _ in range(100):
    if not upid or admin.nodes(node).tasks(upid).status.get()["status"] == "stopped":
        break
    time.sleep(0.1)
assert not upid or admin.nodes(node).tasks(upid).status.get()["exitstatus"] == "OK", upid
listed = [v["volid"] for v in admin.nodes(node).storage("local").content.get(content="iso")]
assert volid not in listed, listed
refused(lambda: admin.nodes(node).storage("local").content(volid).get(), 500, "does not exist")
print("slashed volume ids: ok")

# indexes list only children that exist
vm_index = {e["name"] for e in admin.nodes(node).get()}
assert {"status", "qemu", "lxc", "storage", "tasks"} <= vm_index, vm_index
print("ALL OK")
