package org.corral.access.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.corral.access.AccessFixture.ADMIN;
import static org.corral.access.AccessFixture.ANONYMOUS;
import static org.corral.access.AccessFixture.ROOT;
import static org.corral.core.api.HttpVerb.POST;
import static org.corral.core.api.HttpVerb.PUT;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Map;
import org.corral.access.AccessFixture;
import org.corral.core.console.ConsoleConnection;
import org.corral.core.console.ConsoleKind;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.error.ParameterError;
import org.corral.core.error.Unauthorized;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** POST /access/vncticket through the dispatcher: the console tickets of {@link AccessFixture#consoles}. */
class VncTicketApiTest {
    private static final String GUEST = "/nodes/n1/qemu/100";
    private final AccessFixture fx = new AccessFixture();

    @BeforeEach
    void users() throws Exception {
        fx.call(POST, "/access/users", ROOT, "userid", "alice@pve", "password", "alice-secret-1");
        fx.call(POST, "/access/users", ROOT, "userid", "bob@pve", "password", "bob-secret-1");
        // on all guests: only the ticket's binding tells /vms/100 from /vms/101, and alice from bob
        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms", "roles", "PVEVMUser", "users", "alice@pve,bob@pve");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private ConsoleProxies.Pending console(String user, ConsoleKind kind) {
        return fx.consoles.register(user, GUEST, kind, () -> new ConsoleConnection() {
            @Override
            public InputStream output() {
                return new ByteArrayInputStream(new byte[0]);
            }

            @Override
            public OutputStream input() {
                return new ByteArrayOutputStream();
            }

            @Override
            public void close() {}
        });
    }

    private Object verify(String... params) throws Exception {
        return fx.call(POST, "/access/vncticket", ANONYMOUS, params);
    }

    private void refused(String... params) {
        assertThatThrownBy(() -> verify(params)).as(String.join(" ", params))
                .isInstanceOf(Unauthorized.class).hasMessage("authentication failure");
    }

    @Test
    void aConsoleTicketVerifiesForItsUserPathPortAndPrivilegesAndAnswersNothing() throws Exception {
        ConsoleProxies.Pending console = console("alice@pve", ConsoleKind.TERMINAL);

        assertThat(verify("authid", "alice@pve", "vncticket", console.ticket(), "path", "/vms/100", "privs", "VM.Console")).isNull();
        assertThat(verify("authid", "alice@pve", "vncticket", console.ticket(), "path", "//vms/100/", "privs", "VM.Console,VM.Audit",
                "port", Integer.toString(console.port()))).isNull();
    }

    @Test
    void wrongUserPathPortTamperedTicketOrMissingPrivilegeIsRefused() throws Exception {
        ConsoleProxies.Pending console = console("alice@pve", ConsoleKind.RFB);
        String ticket = console.ticket();
        fx.call(PUT, "/access/acl", ADMIN, "path", "/", "roles", "PVEAuditor", "users", "alice@pve");
        String tampered = ticket.substring(0, ticket.length() - 1) + (ticket.endsWith("x") ? "y" : "x");

        refused("authid", "bob@pve", "vncticket", ticket, "path", "/vms/100", "privs", "VM.Console");
        refused("authid", "alice@pve", "vncticket", ticket, "path", "/vms/101", "privs", "VM.Console");
        refused("authid", "alice@pve", "vncticket", ticket, "path", GUEST, "privs", "Sys.Audit");
        refused("authid", "alice@pve", "vncticket", ticket, "path", "/vms/100", "privs", "VM.Console", "port",
                Integer.toString(console.port() + 1));
        refused("authid", "alice@pve", "vncticket", tampered, "path", "/vms/100", "privs", "VM.Console");
        // PVEVMUser has no VM.Allocate
        refused("authid", "alice@pve", "vncticket", ticket, "path", "/vms/100", "privs", "VM.Console,VM.Allocate");
        refused("authid", "alice@pve", "vncticket", ticket, "path", "/vms/100 x", "privs", "VM.Console");
    }

    @Test
    void aTicketExpiresAfterAMinute() throws Exception {
        ConsoleProxies.Pending console = console("alice@pve", ConsoleKind.TERMINAL);
        fx.clock.advance(Duration.ofSeconds(60));
        assertThat(verify("authid", "alice@pve", "vncticket", console.ticket(), "path", "/vms/100", "privs", "VM.Console")).isNull();

        fx.clock.advance(Duration.ofSeconds(1));
        refused("authid", "alice@pve", "vncticket", console.ticket(), "path", "/vms/100", "privs", "VM.Console");
    }

    @Test
    void aUserWhoLostThePrivilegeOrWasDisabledIsRefused() throws Exception {
        ConsoleProxies.Pending console = console("alice@pve", ConsoleKind.TERMINAL);
        fx.call(PUT, "/access/users/alice@pve", ROOT, "enable", "0");
        refused("authid", "alice@pve", "vncticket", console.ticket(), "path", "/vms/100", "privs", "VM.Console");

        fx.call(PUT, "/access/users/alice@pve", ROOT, "enable", "1");
        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms", "roles", "PVEVMUser", "users", "alice@pve", "delete", "1");
        refused("authid", "alice@pve", "vncticket", console.ticket(), "path", "/vms/100", "privs", "VM.Console");
    }

    @Test
    void aTokensTicketIsCheckedWithTheTokensPrivileges() throws Exception {
        fx.call(POST, "/access/users/alice@pve/token/console", AccessFixture.user("alice@pve"));
        ConsoleProxies.Pending console = console("alice@pve!console", ConsoleKind.TERMINAL);
        // a privilege-separated token without ACLs of its own has no privileges
        refused("authid", "alice@pve!console", "vncticket", console.ticket(), "path", "/vms/100", "privs", "VM.Console");

        fx.call(PUT, "/access/acl", ADMIN, "path", "/vms/100", "roles", "PVEVMUser", "tokens", "alice@pve!console");
        assertThat(verify("authid", "alice@pve!console", "vncticket", console.ticket(), "path", "/vms/100", "privs", "VM.Console"))
                .isNull();
        refused("authid", "alice@pve", "vncticket", console.ticket(), "path", "/vms/100", "privs", "VM.Console");
    }

    @Test
    void missingOrUnknownParametersAreNamed() {
        assertThatThrownBy(() -> verify("authid", "alice@pve", "vncticket", "x", "path", "/vms/100"))
                .isInstanceOf(ParameterError.class).satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey("privs"));
        assertThatThrownBy(() -> verify("authid", "alice@pve", "vncticket", "x", "path", "/vms/100", "privs", "VM.Nothing"))
                .isInstanceOf(ParameterError.class).satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey("privs"));
    }

    @Test
    void theLoginCallStillTakesAConsoleTicketAsPasswordWhenItOnlyVerifies() throws Exception {
        ConsoleProxies.Pending console = console("alice@pve", ConsoleKind.TERMINAL);
        Map<?, ?> answer = (Map<?, ?>) fx.call(POST, "/access/ticket", ANONYMOUS, "username", "alice@pve", "password", console.ticket(),
                "path", "/vms/100", "privs", "VM.Console");
        assertThat(answer.get("username")).isEqualTo("alice@pve");
        assertThat(answer.containsKey("ticket")).isFalse();
        // not a login: without path and privs a console ticket is no password
        assertThatThrownBy(() -> fx.call(POST, "/access/ticket", ANONYMOUS, "username", "alice@pve", "password", console.ticket()))
                .isInstanceOf(Unauthorized.class);
        assertThatThrownBy(() -> fx.call(POST, "/access/ticket", ANONYMOUS, "username", "alice@pve", "password", console.ticket(),
                "path", "/vms/101", "privs", "VM.Console")).isInstanceOf(Unauthorized.class);
    }
}
