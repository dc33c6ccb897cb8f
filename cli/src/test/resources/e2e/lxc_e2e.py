#!/usr/bin/python3
"""Containers end to end with Debian's python3-proxmoxer against a running Corral node.

usage: lxc_e2e.py phase1|phase2 HOST PORT ADMIN_PASSWORD BTRFS_PATH BRIDGE TEMPLATE
phase1 builds up and leaves container 201 running; phase2 runs after the daemon was killed with
SIGKILL and restarted, and checks that it still manages 201, then deletes everything.
"""
import os
import ssl
import sys
import time
import urllib.parse
import urllib3
import requests
import websocket
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

urllib3.disable_warnings()
phase, host, port, password, btrfs_path, bridge, template = sys.argv[1:8]
port = int(port)
CT_PASSWORD = "ct-root-pw-1"
admin = ProxmoxAPI(host, port=port, user="admin@pve", password=password, verify_ssl=False)
node = admin.nodes.get()[0]["node"]
n = admin.nodes(node)


def wait(upid, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = n.tasks(upid).status.get()
        if status["status"] == "stopped":
            log = "\n".join(line["t"] for line in n.tasks(upid).log.get(limit=1000))
            assert status["exitstatus"] == "OK", f"task {upid} failed: {status['exitstatus']}\n{log}"
            return
        time.sleep(0.2)
    raise AssertionError(f"task {upid} did not finish in {timeout} s")


def run(ct, command):
    answer = n.lxc(ct).exec.post(command=command, timeout=30)
    assert answer["exitcode"] == 0, answer
    return answer["stdout"].strip()


def status(ct):
    return n.lxc(ct).status.current.get()


def refused(call, status_code):
    try:
        call()
    except ResourceException as e:
        assert e.status_code == status_code, f"expected {status_code}, got {e.status_code}: {e}"
        return str(e)
    raise AssertionError("expected a refusal")


if phase == "phase1":
    n.storage.get()  # node storage list answers
    admin.storage.post(storage="e2ebtrfs", type="btrfs", path=btrfs_path, content="rootdir,images")
    with open(template, "rb") as f:
        wait(n.storage("local").upload.post(content="vztmpl", filename=f))
    volids = [c["volid"] for c in n.storage("local").content.get(content="vztmpl")]
    TEMPLATE = "local:vztmpl/" + os.path.basename(template)
    assert TEMPLATE in volids, volids
    print("template uploaded: ok")

    # bad input first: each refusal leaves nothing behind
    refused(lambda: n.lxc.post(vmid=200, ostemplate=TEMPLATE, rootfs="e2ebtrfs:1",
                               net0="name=eth0,bridge=" + bridge + ",ip=not-an-ip"), 400)
    assert n.lxc.get() == []
    print("invalid net0 refused, nothing created: ok")

    wait(n.lxc.post(vmid=200, ostemplate=TEMPLATE, hostname="e2e", memory=256, cores=1,
                    rootfs="e2ebtrfs:1", net0=f"name=eth0,bridge={bridge},ip=10.77.0.2/24", unprivileged=1,
                    password=CT_PASSWORD))
    config = n.lxc(200).config.get()
    assert config["memory"] == 256 and config["unprivileged"] == 1 and config["rootfs"].startswith("e2ebtrfs:"), config
    wait(n.lxc(200).status.start.post())
    current = status(200)
    assert current["status"] == "running" and current["pid"] > 0, current
    print("unprivileged container on btrfs started: ok")

    # inside the container root is uid 0; the host sees uid 100000
    assert run(200, "id -u") == "0"
    with open(f"/proc/{current['pid']}/status") as f:
        uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
    assert uids[0] == "100000", uids
    # the memory cgroup holds the 256 MiB limit: the smallest limit on the way from init's cgroup to the root
    limits = []
    with open(f"/proc/{current['pid']}/cgroup") as f:
        for line in f:
            _, controllers, path = line.strip().split(":", 2)
            parts = [p for p in path.split("/") if p]
            for depth in range(len(parts), 0, -1):
                sub = "/" + "/".join(parts[:depth])
                for candidate in (f"/sys/fs/cgroup/memory{sub}/memory.limit_in_bytes", f"/sys/fs/cgroup{sub}/memory.max",
                                  f"/sys/fs/cgroup/unified{sub}/memory.max"):
                    if os.path.exists(candidate):
                        value = open(candidate).read().strip()
                        if value.isdigit():
                            limits.append((int(value), candidate))
    assert limits and min(limits)[0] == 256 * 1024 * 1024, limits
    print("exec id -u = 0, host uid 100000, memory limit 256 MiB: ok")

    # the console over the termproxy websocket: log in, type a command, read its output
    term = n.lxc(200).termproxy.post()
    login = requests.post(f"https://{host}:{port}/api2/json/access/ticket", verify=False,
                          data={"username": "admin@pve", "password": password}).json()["data"]
    cookie = "PVEAuthCookie=" + urllib.parse.quote(login["ticket"], safe="")
    url = (f"wss://{host}:{port}/api2/json/nodes/{node}/lxc/200/vncwebsocket?port={term['port']}"
           f"&vncticket={urllib.parse.quote(term['ticket'], safe='')}")
    ws = websocket.create_connection(url, sslopt={"cert_reqs": ssl.CERT_NONE}, subprotocols=["binary"],
                                     header=[f"Cookie: {cookie}"], timeout=30)
    ws.send_binary(f"{term['user']}:{term['ticket']}\n".encode())
    first = ws.recv()
    assert first in (b"OK", "OK"), first
    screen = {"text": ""}

    def send(text):
        data = text.encode()
        ws.send_binary(b"0:" + str(len(data)).encode() + b":" + data)

    def expect(text, timeout=30):
        deadline = time.time() + timeout
        while text not in screen["text"]:
            if time.time() > deadline:
                raise AssertionError(f"console never showed {text!r}; saw {screen['text'][-500:]!r}")
            chunk = ws.recv()
            screen["text"] += chunk.decode(errors="replace") if isinstance(chunk, bytes) else chunk
        screen["text"] = screen["text"][screen["text"].index(text) + len(text):]

    send("\n")
    expect("login:")
    send("root\n")
    expect("assword:")
    send(CT_PASSWORD + "\n")
    send("echo console-$((6*7))\n")
    expect("console-42")
    ws.close()
    print("termproxy websocket console round trip: ok")

    # shutdown with forceStop, snapshot, change, rollback: the snapshot's content comes back
    run(200, "echo one > /root/mark")
    wait(n.lxc(200).status.shutdown.post(forceStop=1, timeout=10))
    assert status(200)["status"] == "stopped"
    wait(n.lxc(200).snapshot.post(snapname="s1"))
    wait(n.lxc(200).status.start.post())
    run(200, "echo two > /root/mark")
    wait(n.lxc(200).status.stop.post())
    wait(n.lxc(200).snapshot("s1").rollback.post())
    wait(n.lxc(200).status.start.post())
    assert run(200, "cat /root/mark") == "one"
    wait(n.lxc(200).status.stop.post())
    wait(n.lxc(200).snapshot("s1").delete())
    print("shutdown, snapshot and rollback on btrfs: ok")

    # template and a linked clone, left running for phase 2
    n.lxc(200).template.post()
    wait(n.lxc(200).clone.post(newid=201, hostname="clone"))
    assert n.lxc(201).config.get()["rootfs"].startswith("e2ebtrfs:"), n.lxc(201).config.get()
    wait(n.lxc(201).status.start.post())
    assert status(201)["status"] == "running"
    assert run(201, "cat /root/mark") == "one"
    print("linked clone started: ok")
    print("PHASE1 OK")
else:
    # after kill -9 of the daemon and a restart
    current = status(201)
    assert current["status"] == "running", current
    assert run(201, "id -u") == "0"
    wait(n.lxc(201).status.stop.post())
    assert status(201)["status"] == "stopped"
    wait(n.lxc(201).delete(purge=1))
    wait(n.lxc(200).delete(purge=1))
    assert n.lxc.get() == [], n.lxc.get()
    assert [c for c in n.storage("e2ebtrfs").content.get()] == []
    admin.storage("e2ebtrfs").delete()
    print("PHASE2 OK")
