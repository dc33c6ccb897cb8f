#!/usr/bin/python3
"""vzdump and restore of a VM as python3-proxmoxer drives them (what Ansible's proxmox_backup does).

usage: vzdump_e2e.py HOST PORT ADMIN_PASSWORD
"""
import sys
import time
import urllib3
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

urllib3.disable_warnings()
host, port, admin_password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
admin = ProxmoxAPI(host, port=port, verify_ssl=False, user="admin@pve", password=admin_password)
node = admin.nodes.get()[0]["node"]
n = admin.nodes(node)


def wait(upid, ok=True):
    for _ in range(600):
        status = n.tasks(upid).status.get()
        if status["status"] == "stopped":
            log = "\n".join(line["t"] for line in n.tasks(upid).log.get(limit=1000))
            if ok:
                assert status["exitstatus"] == "OK", f"{upid}: {status['exitstatus']}\n{log}"
            return status, log
        time.sleep(0.2)
    raise AssertionError(f"{upid} did not finish")


def refused(call, status, param):
    try:
        call()
    except ResourceException as e:
        assert e.status_code == status, f"expected HTTP {status}, got {e.status_code}: {e}"
        assert param in str(e), f"expected {param!r} in {e}"
        return
    raise AssertionError(f"expected HTTP {status}, but the call succeeded")


wait(n.qemu.post(vmid=500, name="e2evm", memory=128, scsi0="local:1", kvm=0))
refused(lambda: n.vzdump.post(vmid=500, mode="fast"), 400, "mode")
refused(lambda: n.vzdump.post(vmid=500, all=1), 400, "all")
refused(lambda: n.vzdump.post(vmid=9999), 400, "vmid")
print("bad vzdump parameters refused: ok")

status, log = wait(n.vzdump.post(vmid=500, storage="local", compress="zstd", mode="stop", **{"notes-template": "{{guestname}}"}))
assert "INFO: Backup job finished successfully" in log, log
backups = [b for b in n.storage("local").content.get(content="backup") if b.get("vmid") == 500]
assert len(backups) == 1, backups
backup = backups[0]
assert backup["volid"].startswith("local:backup/vzdump-qemu-500-") and backup["volid"].endswith(".tar.zst"), backup
assert backup["subtype"] == "qemu" and backup["format"] == "tar.zst" and backup["notes"] == "e2evm", backup
print("vzdump of VM 500 listed in storage content: ok")

config = n.vzdump.extractconfig.get(volume=backup["volid"])
assert "name: e2evm" in config, config
defaults = n.vzdump.defaults.get()
assert defaults["mode"] == "snapshot" and defaults["storage"] == "local", defaults
print("extractconfig and defaults: ok")

wait(n.qemu.post(vmid=501, archive=backup["volid"], storage="local"))
restored = n.qemu(501).config.get()
assert restored["name"] == "e2evm" and "vm-501-disk-0" in restored["scsi0"], restored
print("restored to VM 501: ok")

answer = n.storage("local").content(backup["volid"]).delete()
if isinstance(answer, str) and answer.startswith("UPID:"):
    wait(answer)
assert not [b for b in n.storage("local").content.get(content="backup") if b.get("vmid") == 500]
print("backup deleted through the content API: ok")
print("ALL OK")
