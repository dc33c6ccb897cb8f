#!/usr/bin/python3
"""The firewall API as Ansible's community.general proxmox firewall modules drive it, through python3-proxmoxer.

usage: firewall_e2e.py HOST PORT ADMIN_PASSWORD
Sets cluster options, adds, moves, updates and deletes rules by pos/moveto/digest, makes a security
group and uses it in a VM's rules, an IP set with a nomatch entry and an alias, and reads all of
them back with Proxmox's field names.
"""
import sys
import time
import urllib3
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

urllib3.disable_warnings()
host, port, admin_password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
api = ProxmoxAPI(host, port=port, verify_ssl=False, user="admin@pve", password=admin_password)
node = api.nodes.get()[0]["node"]
cluster = api.cluster.firewall


def refused(call, text):
    try:
        call()
    except ResourceException as e:
        assert text in str(e), f"expected {text!r} in {e}"
        return e.status_code
    raise AssertionError("expected a refusal, but the call succeeded")


# cluster options, as proxmox_firewall's datacenter options
cluster.options.put(enable=1, policy_in="DROP", policy_out="ACCEPT", log_ratelimit="enable=1,burst=10,rate=5/second")
options = cluster.options.get()
assert options["enable"] == 1 and options["policy_in"] == "DROP", options
assert options["log_ratelimit"] == "enable=1,burst=10,rate=5/second", options
assert len(options["digest"]) == 40, options
assert refused(lambda: cluster.options.put(policy_in="ALLOW"), "policy_in") == 400

# cluster rules: each new rule goes to the top, as in Proxmox; positions are sent as text because
# proxmoxer drops a falsy path part (rules(0) would address the list), as Ansible's modules do
cluster.rules.post(type="in", action="ACCEPT", proto="tcp", dport="22", enable=1, comment="ssh")
cluster.rules.post(type="in", action="DROP", source="192.0.2.0/24", enable=1)
cluster.rules.post(type="in", action="ACCEPT", macro="HTTPS", log="info", enable=0)
rules = cluster.rules.get()
assert [r["pos"] for r in rules] == [0, 1, 2], rules
assert [r.get("macro") for r in rules] == ["HTTPS", None, None], rules
assert rules[2]["dport"] == "22" and rules[2]["proto"] == "tcp" and rules[2]["comment"] == "ssh", rules
assert rules[0]["enable"] == 0 and rules[0]["type"] == "in" and rules[0]["log"] == "info", rules
digest = rules[0]["digest"]

cluster.rules("0").put(moveto=2, digest=digest)
rules = cluster.rules.get()
assert [r.get("macro") for r in rules] == [None, "HTTPS", None], rules
assert refused(lambda: cluster.rules("1").put(enable=1, digest=digest), "detected modified configuration") in (409, 500)
cluster.rules("1").put(enable=1, dport="8443", proto="tcp", digest=rules[0]["digest"], delete="log")
rule = cluster.rules("1").get()
assert rule["enable"] == 1 and rule["dport"] == "8443" and "log" not in rule and rule["pos"] == 1, rule
assert refused(lambda: cluster.rules("7").get(), "no rule at position 7") == 500
cluster.rules("0").delete(digest=cluster.rules.get()[0]["digest"])
assert len(cluster.rules.get()) == 2

# a security group, used by a VM's rules
cluster.groups.post(group="webserver", comment="web front ends")
cluster.groups("webserver").post(type="in", action="ACCEPT", macro="HTTP", enable=1)
cluster.groups("webserver").post(type="in", action="ACCEPT", proto="tcp", dport="443", enable=1)
groups = cluster.groups.get()
assert [(g["group"], g.get("comment")) for g in groups] == [("webserver", "web front ends")], groups
assert [r.get("macro") for r in cluster.groups("webserver").get()] == [None, "HTTP"]

upid = api.nodes(node).qemu.post(vmid=9100, name="fwtest", memory=64)
for _ in range(100):
    if api.nodes(node).tasks(upid).status.get()["status"] == "stopped":
        break
    time.sleep(0.2)
vm = api.nodes(node).qemu(9100).firewall
cluster.ipset.post(name="management", comment="admins")
vm.options.put(enable=1, policy_in="DROP", macfilter=0)
assert vm.options.get()["macfilter"] == 0
vm.rules.post(type="group", action="webserver", iface="net0", enable=1)
vm.rules.post(type="in", action="ACCEPT", source="+dc/management", proto="tcp", dport="22", enable=1)
assert refused(lambda: vm.rules.post(type="group", action="nosuchgroup"), "no such security group") == 400
vm_rules = vm.rules.get()
assert vm_rules[1]["type"] == "group" and vm_rules[1]["action"] == "webserver" and vm_rules[1]["iface"] == "net0", vm_rules

# an IP set with a nomatch entry, and an alias
cluster.ipset("management").post(cidr="198.51.100.0/24")
cluster.ipset("management").post(cidr="198.51.100.7", nomatch=1, comment="not this one")
entries = cluster.ipset("management").get()
assert [(e["cidr"], e.get("nomatch")) for e in entries] == [("198.51.100.0/24", None), ("198.51.100.7", 1)], entries
assert cluster.ipset("management")("198.51.100.0/24").get()["cidr"] == "198.51.100.0/24"
cluster.ipset("management")("198.51.100.7").put(comment="still not", nomatch=1, digest=entries[0]["digest"])
assert cluster.ipset("management")("198.51.100.7").get()["comment"] == "still not"
assert [(s["name"], s.get("comment")) for s in cluster.ipset.get()] == [("management", "admins")]

cluster.aliases.post(name="gateway", cidr="192.0.2.1", comment="router")
alias = cluster.aliases("gateway").get()
assert alias["name"] == "gateway" and alias["cidr"] == "192.0.2.1" and alias["comment"] == "router", alias
vm.aliases.post(name="db", cidr="10.0.0.5")
vm.rules.post(type="out", action="ACCEPT", dest="db", proto="tcp", dport="5432", enable=1)
refs = {(r["type"], r["ref"]) for r in vm.refs.get()}
assert ("alias", "guest/db") in refs and ("ipset", "+dc/management") in refs and ("alias", "dc/gateway") in refs, refs

macros = cluster.macros.get()
assert len(macros) == 84 and {"macro": "SSH", "descr": "Secure shell traffic"} in macros
assert {e["name"] for e in cluster.get()} >= {"options", "rules", "groups", "ipset", "aliases", "macros", "refs"}
assert refused(lambda: api.nodes(node).qemu(9199).firewall.rules.get(),
               f"Configuration file 'nodes/{node}/qemu-server/9199.conf' does not exist") == 500

# host tier
api.nodes(node).firewall.options.put(tcpflags=1, nf_conntrack_max=300000)
assert api.nodes(node).firewall.options.get()["nf_conntrack_max"] == 300000
api.nodes(node).firewall.rules.post(type="in", action="ACCEPT", macro="SSH", iface="vmbr0", enable=1)
assert api.nodes(node).firewall.rules.get()[0]["macro"] == "SSH"

# clean up as the modules do when state=absent
vm.rules("0").delete()
cluster.ipset("management")("198.51.100.7").delete()
cluster.ipset("management").delete(force=1)
cluster.aliases("gateway").delete()
assert cluster.ipset.get() == [] and cluster.aliases.get() == []
print("ALL OK")
