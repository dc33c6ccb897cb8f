package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

/**
 * The datacenter's access views in Debian's headless Chromium against a real node: an administrator creates a pool and a
 * user and gives the user a role on the pool through the GUI; a PVEAuditor sees no buttons that change anything and is
 * told so when opening an action's URL. Screenshots of each step go to target/gui-screenshots.
 */
@Isolated("a headless browser starved by two guest-booting classes on 2 cores hangs; it runs alone")
class GuiDatacenterBrowserIT {
    private static final String PASSWORD = "gui-admin-pass-1";
    private static final Path SHOTS = Path.of("target", "gui-screenshots");

    @TempDir
    Path dir;

    @Test
    void administratorCreatesAPoolAndAUserAndGivesTheUserARoleOnThePool() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("guinode", dir.resolve("data"), "127.0.0.1", 0,
                Optional.of(PASSWORD)))) {
            WebDriver browser = GuiBrowserIT.browser();
            browser.manage().window().setSize(new Dimension(1280, 720));
            try {
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                browser.get("https://127.0.0.1:" + daemon.port() + "/");
                GuiBrowserIT.login(browser, wait, "admin", PASSWORD);
                wait.until(b -> b.findElements(By.id("tab-pools")).size() == 1);
                shot(browser, "admin-01-logged-in");

                browser.findElement(By.id("tab-pools")).click();
                wait.until(b -> b.findElements(By.id("pools-create")).size() == 1);
                browser.findElement(By.id("pools-create")).click();
                type(browser, "pool-dialog-poolid", "gui-pool");
                type(browser, "pool-dialog-comment", "made in the browser");
                shot(browser, "admin-02-pool-dialog");
                browser.findElement(By.id("pool-dialog-submit")).click();
                wait.until(b -> b.findElements(By.cssSelector("#pools-grid tr[data-key='gui-pool']")).size() == 1);
                assertThat(browser.findElements(By.id("pool-dialog"))).isEmpty();
                shot(browser, "admin-03-pool-created");

                browser.findElement(By.id("tab-groups")).click();
                wait.until(b -> b.findElements(By.id("groups-create")).size() == 1);
                browser.findElement(By.id("groups-create")).click();
                type(browser, "group-dialog-groupid", "operators");
                browser.findElement(By.id("group-dialog-submit")).click();
                wait.until(b -> b.findElements(By.cssSelector("#groups-grid tr[data-key='operators']")).size() == 1);

                browser.findElement(By.id("tab-users")).click();
                wait.until(b -> b.findElements(By.id("users-create")).size() == 1);
                browser.findElement(By.id("users-create")).click();
                By operators = By.xpath("//span[@id='user-dialog-groups']/label[normalize-space(.)='operators']/input");
                wait.until(b -> b.findElements(operators).size() == 1);
                browser.findElement(operators).click();
                // a user id without a realm is refused by the API, and its message shows next to the field
                type(browser, "user-dialog-userid", "no realm");
                type(browser, "user-dialog-password", "alice-pass-123");
                browser.findElement(By.id("user-dialog-submit")).click();
                WebElement fieldError = wait.until(b -> b.findElements(By.id("user-dialog-userid-error")).stream().findFirst().orElse(null));
                assertThat(fieldError.getText()).isNotBlank();
                shot(browser, "admin-04-user-field-error");
                TestClient api = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
                assertThat(api.get("/access/users").data().toString()).doesNotContain("no realm");

                type(browser, "user-dialog-userid", "alice@pve");
                type(browser, "user-dialog-firstname", "Alice");
                browser.findElement(By.id("user-dialog-submit")).click();
                wait.until(b -> b.findElements(By.cssSelector("#users-grid tr[data-key='alice@pve']")).size() == 1);
                shot(browser, "admin-05-user-created");

                browser.findElement(By.id("tab-acl")).click();
                wait.until(b -> b.findElements(By.id("acl-create")).size() == 1);
                browser.findElement(By.id("acl-create")).click();
                wait.until(b -> b.findElements(By.xpath("//select[@id='acl-dialog-roles']/option[text()='PVEVMAdmin']")).size() == 1);
                type(browser, "acl-dialog-path", "/pool/gui-pool");
                type(browser, "acl-dialog-ugid", "alice@pve");
                new Select(browser.findElement(By.id("acl-dialog-roles"))).selectByVisibleText("PVEVMAdmin");
                shot(browser, "admin-06-acl-dialog");
                browser.findElement(By.id("acl-dialog-submit")).click();
                wait.until(b -> b.findElements(By.cssSelector("#acl-grid tr[data-key='/pool/gui-pool:user:alice@pve:PVEVMAdmin']")).size() == 1);
                shot(browser, "admin-07-acl-added");

                // a role from the privileges there are
                browser.findElement(By.id("tab-roles")).click();
                wait.until(b -> b.findElements(By.id("roles-create")).size() == 1);
                browser.findElement(By.id("roles-create")).click();
                type(browser, "role-dialog-roleid", "GuiOperator");
                for (String privilege : new String[] {"VM.Audit", "VM.PowerMgmt"}) {
                    wait.until(b -> b.findElements(By.xpath("//span[@id='role-dialog-privs']/label[normalize-space(.)='" + privilege + "']/input"))
                            .size() == 1);
                    browser.findElement(By.xpath("//span[@id='role-dialog-privs']/label[normalize-space(.)='" + privilege + "']/input")).click();
                }
                shot(browser, "admin-08a-role-dialog");
                browser.findElement(By.id("role-dialog-submit")).click();
                wait.until(b -> b.findElements(By.cssSelector("#roles-grid tr[data-key='GuiOperator']")).size() == 1);
                JsonNode role = api.get("/access/roles/GuiOperator").data();
                assertThat(role.has("VM.Audit") && role.has("VM.PowerMgmt")).as(role.toString()).isTrue();
                assertThat(role.size()).as(role.toString()).isEqualTo(2);

                // the pool gets the node's storage as a member
                browser.findElement(By.id("tab-pools")).click();
                wait.until(b -> b.findElements(By.cssSelector("#pools-grid tr[data-key='gui-pool']")).size() == 1);
                browser.findElement(By.cssSelector("#pools-grid tr[data-key='gui-pool']")).click();
                wait.until(b -> b.findElement(By.id("pools-add-storage")).isEnabled());
                browser.findElement(By.id("pools-add-storage")).click();
                type(browser, "pool-dialog-storage", "local");
                browser.findElement(By.id("pool-dialog-submit")).click();
                wait.until(b -> b.findElements(By.xpath("//table[@id='pool-members']//td[text()='storage']")).size() == 1);
                shot(browser, "admin-08-pool-member");
                // adding it twice: the API's message shows next to the field
                browser.findElement(By.id("pools-add-storage")).click();
                type(browser, "pool-dialog-storage", "local");
                browser.findElement(By.id("pool-dialog-submit")).click();
                WebElement twice = wait.until(b -> b.findElements(By.id("pool-dialog-storage-error")).stream().findFirst().orElse(null));
                assertThat(twice.getText()).contains("already");
                shot(browser, "admin-08b-pool-member-twice");
                browser.findElement(By.id("pool-dialog-cancel")).click();
                wait.until(b -> b.findElements(By.id("pool-dialog")).isEmpty());

                // the user is edited, and gets an API token whose secret is shown once
                browser.findElement(By.id("tab-users")).click();
                wait.until(b -> b.findElements(By.cssSelector("#users-grid tr[data-key='alice@pve']")).size() == 1);
                browser.findElement(By.cssSelector("#users-grid tr[data-key='alice@pve']")).click();
                browser.findElement(By.id("users-edit")).click();
                wait.until(b -> b.findElement(By.id("user-dialog-firstname")).getAttribute("value").equals("Alice"));
                type(browser, "user-dialog-comment", "pool operator");
                browser.findElement(By.id("user-dialog-submit")).click();
                wait.until(b -> b.findElements(By.xpath("//table[@id='users-grid']//td[text()='pool operator']")).size() == 1);
                browser.findElement(By.id("tab-tokens")).click();
                wait.until(b -> b.findElements(By.id("tokens-create")).size() == 1);
                browser.findElement(By.id("tokens-create")).click();
                wait.until(b -> b.findElements(By.xpath("//select[@id='token-dialog-userid']/option[text()='alice@pve']")).size() == 1);
                new Select(browser.findElement(By.id("token-dialog-userid"))).selectByVisibleText("alice@pve");
                type(browser, "token-dialog-tokenid", "gui");
                browser.findElement(By.id("token-dialog-submit")).click();
                WebElement secret = wait.until(b -> b.findElements(By.id("token-secret-value")).stream().findFirst().orElse(null));
                assertThat(secret.getText()).isNotBlank();
                wait.until(b -> b.findElements(By.cssSelector("#tokens-grid tr[data-key='alice@pve!gui']")).size() == 1);
                shot(browser, "admin-09-token-created");
                assertThat(new TestClient(daemon.port()).token("alice@pve!gui", secret.getText()).get("/version").status()).isEqualTo(200);

                // the result, over the API
                assertThat(api.get("/pools/gui-pool").data().path("members").toString()).contains("local");
                assertThat(api.get("/access/users/alice@pve").data().path("comment").asText()).isEqualTo("pool operator");
                JsonNode pool = api.get("/pools/gui-pool").data();
                assertThat(pool.path("comment").asText()).isEqualTo("made in the browser");
                JsonNode user = api.get("/access/users/alice@pve").data();
                assertThat(user.path("firstname").asText()).isEqualTo("Alice");
                assertThat(user.path("groups").toString()).as(user.toString()).contains("operators");
                JsonNode acl = api.get("/access/acl").data();
                assertThat(StreamSupport.stream(acl.spliterator(), false).filter(e -> e.path("path").asText().equals("/pool/gui-pool")
                        && e.path("ugid").asText().equals("alice@pve") && e.path("roleid").asText().equals("PVEVMAdmin")
                        && e.path("type").asText().equals("user") && e.path("propagate").asInt() == 1)).hasSize(1);
                TestClient alice = new TestClient(daemon.port()).login("alice@pve", "alice-pass-123");
                JsonNode perms = alice.get("/access/permissions", Map.of("path", "/pool/gui-pool")).data();
                assertThat(perms.path("/pool/gui-pool").has("VM.Allocate")).as(perms.toString()).isTrue();

                // the member is removed again from the pool's member list
                browser.findElement(By.id("tab-pools")).click();
                wait.until(b -> b.findElements(By.cssSelector("#pools-grid tr[data-key='gui-pool']")).size() == 1);
                browser.findElement(By.cssSelector("#pools-grid tr[data-key='gui-pool']")).click();
                wait.until(b -> b.findElements(By.cssSelector("#pool-members .remove-member")).size() == 1);
                browser.findElement(By.cssSelector("#pool-members .remove-member")).click();
                wait.until(b -> b.findElements(By.cssSelector("#pool-members tbody tr")).isEmpty());
                assertThat(api.get("/pools/gui-pool").data().path("members").size()).isZero();

                // a second pool of the same name is refused with the API's message, and nothing changes
                wait.until(b -> b.findElements(By.id("pools-create")).size() == 1);
                browser.findElement(By.id("pools-create")).click();
                type(browser, "pool-dialog-poolid", "gui-pool");
                browser.findElement(By.id("pool-dialog-submit")).click();
                WebElement refused = wait.until(b -> b.findElements(By.cssSelector("#pool-dialog .error, #pool-dialog .field-error")).stream()
                        .findFirst().orElse(null));
                assertThat(refused.getText()).contains("gui-pool");
                shot(browser, "admin-10-pool-exists");
                browser.findElement(By.id("pool-dialog-cancel")).click();
                wait.until(b -> b.findElements(By.id("pool-dialog")).isEmpty());

                // and removed again: the permission, the token, the user
                browser.findElement(By.id("tab-acl")).click();
                String aclRow = "#acl-grid tr[data-key='/pool/gui-pool:user:alice@pve:PVEVMAdmin']";
                wait.until(b -> b.findElements(By.cssSelector(aclRow)).size() == 1);
                browser.findElement(By.cssSelector(aclRow)).click();
                browser.findElement(By.id("acl-remove")).click();
                wait.until(b -> b.findElements(By.id("confirm-yes")).size() == 1);
                browser.findElement(By.id("confirm-yes")).click();
                wait.until(b -> b.findElements(By.cssSelector(aclRow)).isEmpty());
                browser.findElement(By.id("tab-tokens")).click();
                String tokenRow = "#tokens-grid tr[data-key='alice@pve!gui']";
                wait.until(b -> b.findElements(By.cssSelector(tokenRow)).size() == 1);
                browser.findElement(By.cssSelector(tokenRow)).click();
                browser.findElement(By.id("tokens-remove")).click();
                wait.until(b -> b.findElements(By.id("confirm-yes")).size() == 1);
                browser.findElement(By.id("confirm-yes")).click();
                wait.until(b -> b.findElements(By.cssSelector(tokenRow)).isEmpty());
                browser.findElement(By.id("tab-users")).click();
                String userRow = "#users-grid tr[data-key='alice@pve']";
                wait.until(b -> b.findElements(By.cssSelector(userRow)).size() == 1);
                browser.findElement(By.cssSelector(userRow)).click();
                browser.findElement(By.id("users-remove")).click();
                wait.until(b -> b.findElements(By.id("confirm-yes")).size() == 1);
                shot(browser, "admin-11-remove-user");
                browser.findElement(By.id("confirm-yes")).click();
                wait.until(b -> b.findElements(By.cssSelector(userRow)).isEmpty());
                assertThat(api.get("/access/users/alice@pve").status()).isNotEqualTo(200);
                assertThat(api.get("/access/acl").data().toString()).doesNotContain("alice@pve");

                // an action URL naming something that is not there says so, and opens no dialog
                browser.get("https://127.0.0.1:" + daemon.port() + "/#/dc/users/edit/alice%40pve");
                WebElement gone = wait.until(b -> b.findElements(By.id("denied")).stream().findFirst().orElse(null));
                assertThat(gone.getText()).contains("alice@pve", "does not exist");
                assertThat(browser.findElements(By.id("user-dialog"))).isEmpty();
            } catch (Throwable e) {
                failureShot(browser, e);
                throw e;
            } finally {
                browser.quit();
            }
        }
    }

    @Test
    void auditorSeesNoButtonsThatChangeAnythingAndIsToldSoOnAnActionUrl() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("guinode", dir.resolve("data"), "127.0.0.1", 0,
                Optional.of(PASSWORD)))) {
            TestClient api = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            assertThat(api.post("/access/users", Map.of("userid", "audit@pve", "password", "audit-pass-123")).status()).isEqualTo(200);
            assertThat(api.put("/access/acl", Map.of("path", "/", "users", "audit@pve", "roles", "PVEAuditor")).status()).isEqualTo(200);
            assertThat(api.post("/pools", Map.of("poolid", "seen")).status()).isEqualTo(200);

            WebDriver browser = GuiBrowserIT.browser();
            browser.manage().window().setSize(new Dimension(1280, 720));
            try {
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                String base = "https://127.0.0.1:" + daemon.port() + "/";
                browser.get(base);
                GuiBrowserIT.login(browser, wait, "audit", "audit-pass-123");
                wait.until(b -> b.findElements(By.id("tab-users")).size() == 1);

                // every list is there to read, and no button changes it
                for (String[] view : new String[][] {{"users", "users-grid", "audit@pve"}, {"groups", "groups-grid", null},
                        {"pools", "pools-grid", "seen"}, {"roles", "roles-grid", "PVEAuditor"}, {"acl", "acl-grid", "/:user:audit@pve:PVEAuditor"}}) {
                    browser.findElement(By.id("tab-" + view[0])).click();
                    wait.until(b -> b.findElements(By.id(view[1])).size() == 1);
                    if (view[2] != null) {
                        wait.until(b -> b.findElements(By.cssSelector("#" + view[1] + " tr[data-key='" + view[2] + "']")).size() == 1);
                    }
                    for (String action : new String[] {"create", "edit", "remove", "add-vm", "add-storage"}) {
                        assertThat(browser.findElements(By.id(view[0] + "-" + action))).as(view[0] + " " + action).isEmpty();
                    }
                    shot(browser, "auditor-" + view[0]);
                }

                // the URL of an action says plainly that it is not allowed, and offers no dialog
                String[][] urls = {{"users/create", "User.Modify"}, {"users/remove/audit%40pve", "User.Modify"},
                        {"pools/create", "Pool.Allocate"}, {"pools/remove/seen", "Pool.Allocate"}, {"acl/create", "Permissions.Modify"},
                        {"roles/create", "Sys.Modify"}, {"groups/create", "Group.Allocate"}};
                for (String[] url : urls) {
                    browser.get(base + "#/dc/" + url[0]);
                    WebElement denied = wait.until(b -> b.findElements(By.id("denied")).stream()
                            .filter(e -> e.getText().contains(url[1])).findFirst().orElse(null));
                    assertThat(denied.getText()).startsWith("Permission denied");
                    assertThat(browser.findElements(By.cssSelector("form.dialog, #confirm"))).isEmpty();
                    shot(browser, "auditor-denied-" + url[0].replace('/', '-').replace("%40", "@"));
                }
                assertThat(api.get("/access/users/audit@pve").status()).isEqualTo(200);
                assertThat(api.get("/pools/seen").status()).isEqualTo(200);
            } catch (Throwable e) {
                failureShot(browser, e);
                throw e;
            } finally {
                browser.quit();
            }
        }
    }

    /** Types into the field once the app has rendered it (a dialog opens on the next render, not at the click). */
    private static void type(WebDriver browser, String id, String text) {
        new WebDriverWait(browser, Duration.ofSeconds(20)).until(b -> b.findElements(By.id(id)).size() == 1);
        WebElement field = browser.findElement(By.id(id));
        field.clear();
        field.sendKeys(text);
    }

    /** A screenshot of the failure, which never hides the failure itself: a browser that hangs fails the shot too. */
    private static void failureShot(WebDriver browser, Throwable failure) {
        try {
            shot(browser, "failed");
        } catch (Throwable e) {
            failure.addSuppressed(e);
        }
    }

    private static void shot(WebDriver browser, String name) throws Exception {
        Files.createDirectories(SHOTS);
        Path taken = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.move(taken, SHOTS.resolve(GuiDatacenterBrowserIT.class.getSimpleName() + "-" + name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
