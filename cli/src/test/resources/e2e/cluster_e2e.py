#!/usr/bin/python3
"""A cluster of three real nodes (separate processes, each in its own network namespace), formed by
root with `corral cluster`, used through Debian's python3-proxmoxer as an administrator would.

usage: cluster_e2e.py PHASE PORT ADMIN_PASSWORD ADDR1 ADDR2 ADDR3   (nodes pve1, pve2, pve3)
PHASE: formed (after the joins), partitioned (pve3 cut off from pve1 and pve2), healed.
"""
import sys
import time
import urllib3
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

urllib3.disable_warnings()
phase, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
addresses = sys.argv[4:7]
names = ["pve1", "pve2", "pve3"]


def api(i, user="admin@pve", pw=password):
    return ProxmoxAPI(addresses[i], port=port, user=user, password=pw, verify_ssl=False, timeout=60)


def wait(client, node, upid, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            status = client.nodes(node).tasks(upid).status.get()
        except Exception:  # the joining node restarts its services while its task ends
            time.sleep(0.5)
            continue
        if status["status"] == "stopped":
            assert status["exitstatus"] == "OK", f"task {upid}: {status['exitstatus']}"
            return
        time.sleep(0.3)
    raise AssertionError(f"task {upid} did not finish in {timeout} s")


def retry(call, timeout=120):
    deadline = time.time() + timeout
    while True:
        try:
            return call()
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def quorate(i):
    status = api(i).cluster.status.get()
    return status[0]["quorate"]


def formed():
    # every node shows three members online and a quorum
    for i in range(3):
        def three_online():
            status = api(i).cluster.status.get()
            nodes = [e for e in status if e["type"] == "node"]
            assert len(nodes) == 3 and all(e["online"] == 1 for e in nodes), status
            assert status[0]["quorate"] == 1, status
            return status
        status = retry(three_online)
        print(names[i], "sees", sorted(e["name"] for e in status if e["type"] == "node"), "quorate", status[0]["quorate"])

    # a user made on node 1 logs in on node 3
    first = retry(lambda: api(0))
    first.access.users.post(userid="erin@pve", password="erin-pass-1")
    first.access.acl.put(path="/vms", roles="PVEVMAdmin", users="erin@pve")
    erin = retry(lambda: api(2, "erin@pve", "erin-pass-1"))
    print("erin@pve logs in on pve3")

    # a VM made on node 2 through node 1, read through node 3, its task on node 2
    upid = first.nodes("pve2").qemu.post(vmid=250, memory=64, name="made-through-pve1")
    assert upid.startswith("UPID:pve2:"), upid
    wait(first, "pve2", upid)
    config = erin.nodes("pve2").qemu(250).config.get()
    assert config["name"] == "made-through-pve1", config
    resources = [r for r in api(2).cluster.resources.get(type="vm") if r["vmid"] == 250]
    assert resources and resources[0]["node"] == "pve2", resources
    print("VM 250 on pve2, made through pve1, read through pve3")


def partitioned():
    # pve3 alone is 1 of 3 voters: it answers reads, refuses a create with Proxmox's words
    def cut_off():
        assert quorate(2) == 0, "pve3 is still quorate"
    retry(cut_off, timeout=120)
    minority = api(2)
    try:
        minority.nodes("pve3").qemu.post(vmid=260, memory=64)
        raise AssertionError("the minority created a VM")
    except ResourceException as e:
        assert "no quorum" in str(e), e
    print("pve3 (minority) refuses a create:", "cluster not ready - no quorum?")
    # pve1 and pve2 are 2 of 3: they write on
    majority = api(0)
    assert quorate(0) == 1
    upid = majority.nodes("pve1").qemu.post(vmid=251, memory=64, name="made-during-partition")
    wait(majority, "pve1", upid)
    print("pve1 (majority) created VM 251")


def healed():
    def agree():
        for i in range(3):
            assert quorate(i) == 1, f"{names[i]} not quorate"
            vmids = sorted(r["vmid"] for r in api(i).cluster.resources.get(type="vm"))
            assert vmids == [250, 251], f"{names[i]} lists {vmids}"
    retry(agree, timeout=120)
    assert 260 not in [r["vmid"] for r in api(2).cluster.resources.get(type="vm")]
    print("after healing all three nodes list VMs [250, 251] and are quorate")


{"formed": formed, "partitioned": partitioned, "healed": healed}[phase]()
print(phase.upper() + " OK")
