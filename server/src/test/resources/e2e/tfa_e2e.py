#!/usr/bin/python3
"""Two-factor login with Debian's python3-proxmoxer against a running Corral node.

usage: tfa_e2e.py HOST PORT ADMIN_PASSWORD
A user adds a TOTP key, logs in with proxmoxer's otp=, is refused a reused or wrong code and
without one, and uses a recovery key once through Proxmox's two-step tfa-challenge login.
"""
import base64
import hashlib
import hmac
import json
import struct
import sys
import time
import urllib.parse
import requests
import urllib3
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException
from proxmoxer.backends.https import AuthenticationError

urllib3.disable_warnings()
host, port, admin_password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
base = f"https://{host}:{port}/api2/json"
SECRET = base64.b32encode(b"proxmoxer-totp-key-1").decode()
URI = f"otpauth://totp/corral:mfa?secret={SECRET}&issuer=corral"


def api(**kw):
    return ProxmoxAPI(host, port=port, verify_ssl=False, **kw)


def code(step):
    mac = hmac.new(base64.b32decode(SECRET), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def ticket(**data):
    return requests.post(base + "/access/ticket", data=data, verify=False, timeout=30)


def login_refused(**kw):
    try:
        api(**kw)
    except AuthenticationError:
        return
    raise AssertionError(f"login with {kw.get('otp')} succeeded")


admin = api(user="admin@pve", password=admin_password)
admin.access.users.post(userid="mfa@pve", password="mfa-pass-123")
admin.access.acl.put(path="/", roles="PVEAuditor", users="mfa@pve")

mfa = api(user="mfa@pve", password="mfa-pass-123")
step = int(time.time()) // 30
added = mfa.access.tfa("mfa@pve").post(type="totp", totp=URI, value=code(step), description="phone",
                                        password="mfa-pass-123")
entries = mfa.access.tfa("mfa@pve").get()
assert [e["id"] for e in entries] == [added["id"]] and entries[0]["type"] == "totp", entries
assert "secret" not in json.dumps(entries) and SECRET not in json.dumps(admin.access.tfa.get())
print("TOTP added: ok")

# without the code: proxmoxer gets a half ticket, which opens nothing
first = ticket(username="mfa@pve", password="mfa-pass-123").json()["data"]
assert first["NeedTFA"] == 1 and first["ticket"].startswith("PVE:!tfa!"), first
challenge = json.loads(urllib.parse.unquote(first["ticket"].split(":")[1][len("!tfa!"):]))
assert challenge == {"totp": True}, challenge
half = api(user="mfa@pve", password="mfa-pass-123")
try:
    half.version.get()
    raise AssertionError("a half ticket was accepted")
except ResourceException as e:
    assert e.status_code == 401, e
print("login without the code gets a TFA challenge only: ok")

# the next step's code logs in through proxmoxer's otp=
good = code(step + 1)
session = api(user="mfa@pve", password="mfa-pass-123", otp=good)
assert session.version.get()["product"] == "corral"
print("proxmoxer login with otp: ok")

login_refused(user="mfa@pve", password="mfa-pass-123", otp=good)
wrong = "000000" if good != "000000" else "000001"
login_refused(user="mfa@pve", password="mfa-pass-123", otp=wrong)
reused = ticket(username="mfa@pve", password="totp:" + good, **{"tfa-challenge": first["ticket"]})
assert reused.status_code == 401, reused.text
print("reused and wrong codes refused: ok")

# recovery keys through the two-step login, each good once
keys = session.access.tfa("mfa@pve").post(type="recovery", password="mfa-pass-123")["recovery"]
assert len(keys) == 10, keys
first = ticket(username="mfa@pve", password="mfa-pass-123").json()["data"]
second = ticket(username="mfa@pve", password="recovery:" + keys[0], **{"tfa-challenge": first["ticket"]})
assert second.status_code == 200 and second.json()["data"]["ticket"].startswith("PVE:mfa@pve:"), second.text
again = ticket(username="mfa@pve", password="recovery:" + keys[0], **{"tfa-challenge": first["ticket"]})
assert again.status_code == 401, again.text
print("recovery key works once: ok")

assert admin.access.users("mfa@pve")("unlock-tfa").put() in (0, False)
print("ALL OK")
