#!/usr/bin/python3
"""VMs end to end with Debian's python3-proxmoxer against a running Corral node.

usage: qemu_e2e.py phase1|phase2 HOST PORT ADMIN_PASSWORD BRIDGE ISO
phase1 uploads the test ISO, builds VM 300 up to a full clone 301 left running; phase2 runs after
the node was killed with SIGKILL and restarted: 301 must still be running and manageable; then
resize, template, linked clone, and delete everything.
"""
import os
import ssl
import sys
import time
import urllib.parse
import requests
import urllib3
import websocket
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

urllib3.disable_warnings()
phase, host, port, password, bridge, iso = sys.argv[1:7]
port = int(port)
admin = ProxmoxAPI(host, port=port, user="admin@pve", password=password, verify_ssl=False)
node = admin.nodes.get()[0]["node"]
n = admin.nodes(node)
ISO = "local:iso/" + os.path.basename(iso)
READY = "CORRAL-GUEST-READY"


def wait(upid, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = n.tasks(upid).status.get()
        if status["status"] == "stopped":
            log = "\n".join(line["t"] for line in n.tasks(upid).log.get(limit=1000))
            assert status["exitstatus"] == "OK", f"task {upid} failed: {status['exitstatus']}\n{log}"
            return
        time.sleep(0.2)
    raise AssertionError(f"task {upid} did not finish in {timeout} s")


def refused(call):
    try:
        result = call()
    except ResourceException as e:
        return str(e)
    if isinstance(result, str) and result.startswith("UPID:"):
        status = None
        for _ in range(300):
            status = n.tasks(result).status.get()
            if status["status"] == "stopped":
                break
            time.sleep(0.1)
        assert status["exitstatus"] != "OK", f"expected a refusal, the task succeeded: {status}"
        return status["exitstatus"]
    raise AssertionError(f"expected a refusal, got {result!r}")


def serial_shows(vmid, text, timeout=90):
    """Reads the VM's serial console through termproxy and the websocket until text appears."""
    term = n.qemu(vmid).termproxy.post()
    login = requests.post(f"https://{host}:{port}/api2/json/access/ticket", verify=False,
                          data={"username": "admin@pve", "password": password}).json()["data"]
    url = (f"wss://{host}:{port}/api2/json/nodes/{node}/qemu/{vmid}/vncwebsocket?port={term['port']}"
           f"&vncticket={urllib.parse.quote(term['ticket'], safe='')}")
    ws = websocket.create_connection(url, sslopt={"cert_reqs": ssl.CERT_NONE}, subprotocols=["binary"],
                                     header=["Cookie: PVEAuthCookie=" + urllib.parse.quote(login["ticket"], safe="")],
                                     timeout=timeout)
    ws.send_binary(f"{term['user']}:{term['ticket']}\n".encode())
    first = ws.recv()
    assert first in (b"OK", "OK"), first
    seen = ""
    deadline = time.time() + timeout
    while text not in seen:
        assert time.time() < deadline, f"serial console never showed {text!r}; saw {seen[-300:]!r}"
        chunk = ws.recv()
        seen += chunk.decode(errors="replace") if isinstance(chunk, bytes) else chunk
    ws.close()
    return seen


def volumes(vmid):
    return [c["volid"] for c in n.storage("local").content.get(vmid=vmid)]


if phase == "phase1":
    with open(iso, "rb") as f:
        wait(n.storage("local").upload.post(content="iso", filename=f))
    assert ISO in [c["volid"] for c in n.storage("local").content.get(content="iso")]
    print("ISO uploaded: ok")

    # bad input leaves nothing behind
    refused(lambda: n.qemu.post(vmid=300, kvm=0, memory=256, net0="virtio,bridge=" + bridge + ",rate=fast"))
    refused(lambda: n.qemu.post(vmid=300, kvm=0, memory=256, scsi0="nosuchstorage:1"))
    assert n.qemu.get() == [] and volumes(300) == []
    print("invalid property string and missing storage refused, nothing left: ok")

    wait(n.qemu.post(vmid=300, name="e2e-vm", kvm=0, memory=256, scsihw="virtio-scsi-pci", scsi0="local:1,format=qcow2",
                     ide2=ISO + ",media=cdrom", net0=f"virtio,bridge={bridge}", serial0="socket", boot="order=ide2;scsi0"))
    config = n.qemu(300).config.get()
    assert config["scsi0"].startswith("local:300/vm-300-disk-0.qcow2") and "size=1G" in config["scsi0"], config
    assert config["net0"].startswith("virtio=BC:24:11:"), config
    refused(lambda: n.qemu.post(vmid=300, kvm=0, memory=128))
    print("VM created with a 1 GiB qcow2 disk, cdrom, NIC and serial socket; taken VMID refused: ok")

    wait(n.qemu(300).status.start.post())
    current = n.qemu(300).status.current.get()
    assert current["status"] == "running" and current["qmpstatus"] == "running" and current["pid"] > 0, current
    serial_shows(300, READY)
    print("started, running with pid, marker read over the termproxy websocket: ok")

    # the VNC websocket: RFB handshake with the vncticket, refused without a valid one
    vnc = n.qemu(300).vncproxy.post(websocket=1)
    login = requests.post(f"https://{host}:{port}/api2/json/access/ticket", verify=False,
                          data={"username": "admin@pve", "password": password}).json()["data"]
    cookie = "Cookie: PVEAuthCookie=" + urllib.parse.quote(login["ticket"], safe="")
    base_url = f"wss://{host}:{port}/api2/json/nodes/{node}/qemu/300/vncwebsocket?port={vnc['port']}&vncticket="
    try:
        websocket.create_connection(base_url + "wrong", sslopt={"cert_reqs": ssl.CERT_NONE}, subprotocols=["binary"],
                                    header=[cookie], timeout=30)
        raise AssertionError("a wrong vncticket was accepted")
    except websocket.WebSocketBadStatusException as e:
        assert e.status_code == 403, e.status_code
    ws = websocket.create_connection(base_url + urllib.parse.quote(vnc["ticket"], safe=""), sslopt={"cert_reqs": ssl.CERT_NONE},
                                     subprotocols=["binary"], header=[cookie], timeout=30)
    greeting = ws.recv()
    assert greeting.startswith(b"RFB 003.008"), greeting
    ws.close()
    print("VNC websocket: RFB 003.008 with the vncticket, 403 without: ok")

    wait(n.qemu(300).snapshot.post(snapname="s1", vmstate=1))
    wait(n.qemu(300).snapshot("s1").rollback.post())
    assert n.qemu(300).status.current.get()["status"] == "running"
    serial_shows(300, READY)
    print("snapshot with RAM and rollback, running again: ok")

    wait(n.qemu(300).clone.post(newid=301, full=1, name="e2e-full"))
    clone = n.qemu(301).config.get()
    assert clone["net0"] != config["net0"], (clone["net0"], config["net0"])
    wait(n.qemu(301).status.start.post())
    serial_shows(301, READY)
    print("full clone with a new MAC boots: ok")
    print("PHASE1 OK")
else:
    current = n.qemu(301).status.current.get()
    assert current["status"] == "running" and current["pid"] > 0, current
    wait(n.qemu(301).status.stop.post())
    assert n.qemu(301).status.current.get()["status"] == "stopped"
    print("after kill -9 of the node, the running clone is found and stopped: ok")

    wait(n.qemu(300).status.stop.post())
    resized = n.qemu(300).resize.put(disk="scsi0", size="+1G")
    if isinstance(resized, str) and resized.startswith("UPID:"):
        wait(resized)
    assert "size=2G" in n.qemu(300).config.get()["scsi0"], n.qemu(300).config.get()["scsi0"]
    wait(n.qemu(300).snapshot("s1").delete())
    n.qemu(300).template.post()
    message = refused(lambda: n.qemu(300).status.start.post())
    assert "template" in message.lower(), message
    wait(n.qemu(300).clone.post(newid=302, name="e2e-linked"))
    assert "base-300-disk-0" in n.qemu(302).config.get()["scsi0"] or "vm-302" in n.qemu(302).config.get()["scsi0"]
    print("resize, template (start refused) and linked clone: ok")

    for vmid in (302, 301, 300):
        wait(n.qemu(vmid).delete(purge=1))
    assert n.qemu.get() == [], n.qemu.get()
    for vmid in (300, 301, 302):
        assert volumes(vmid) == [], volumes(vmid)
    print("PHASE2 OK")
