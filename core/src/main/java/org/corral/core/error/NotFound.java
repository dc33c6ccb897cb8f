package org.corral.core.error;

/**
 * An object that does not exist. Proxmox VE answers these with HTTP 500 and a message such as
 * "storage 'x' does not exist", and its clients (Ansible's modules, Terraform providers) decide
 * "absent" from that status and text, so Corral answers the same.
 */
public final class NotFound extends ApiException {
    public NotFound(String message) {
        super(500, message);
    }
}
