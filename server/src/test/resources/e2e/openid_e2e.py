#!/usr/bin/python3
"""OpenID Connect sign-in with Debian's python3-proxmoxer against a running Corral node.

usage: openid_e2e.py HOST PORT ADMIN_PASSWORD
The node has an openid realm 'corp' whose provider signs in 'grace'. proxmoxer asks for the
auth URL, the provider's redirect is followed as a browser would, the code and state give a
ticket, proxmoxer logs in with that ticket, and the same code and state again are refused.
"""
import sys
import urllib.parse
import requests
import urllib3
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

urllib3.disable_warnings()
host, port, admin_password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
REDIRECT = "https://127.0.0.1:8006"

admin = ProxmoxAPI(host, port=port, user="admin@pve", password=admin_password, verify_ssl=False)
realms = {d["realm"]: d for d in admin.access.domains.get()}
assert realms["corp"]["type"] == "openid", realms

url = admin.access.openid("auth-url").post(realm="corp", **{"redirect-url": REDIRECT})
assert url.startswith("https://127.0.0.1:"), url
assert "code_challenge_method=S256" in url, url

# the browser's part: the provider answers with a redirect back to the node's origin
back = requests.get(url, verify=False, allow_redirects=False, timeout=30)
assert back.status_code == 302, back.text
query = urllib.parse.parse_qs(urllib.parse.urlparse(back.headers["Location"]).query)
code, state = query["code"][0], query["state"][0]

answer = admin.access.openid.login.post(code=code, state=state, **{"redirect-url": REDIRECT})
assert answer["username"] == "grace@corp", answer
for key in ("ticket", "CSRFPreventionToken", "cap"):
    assert key in answer, answer
print("signed in as", answer["username"])

# the ticket is a Proxmox ticket: proxmoxer logs in with it as the password
grace = ProxmoxAPI(host, port=port, user="grace@corp", password=answer["ticket"], verify_ssl=False)
assert grace.version.get()["version"], "version"
assert "grace@corp" in [u["userid"] for u in admin.access.users.get()]

try:
    admin.access.openid.login.post(code=code, state=state, **{"redirect-url": REDIRECT})
    raise SystemExit("a used state was accepted again")
except ResourceException as e:
    assert e.status_code == 401, e
    assert "invalid OpenID state" in str(e), str(e)

print("ALL OK")
