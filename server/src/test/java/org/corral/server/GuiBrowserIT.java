package org.corral.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.corral.access.tfa.Totp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.remote.http.ClientConfig;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The web GUI in Debian's headless Chromium against a real node: login, resource tree, summary, tasks, logout. */
@Isolated("a headless browser starved by two guest-booting classes on 2 cores hangs; it runs alone")
class GuiBrowserIT {
    private static final String PASSWORD = "gui-admin-pass-1";

    @TempDir
    Path dir;

    @Test
    void pageAndAssetsAreServedWithTheirCachingAndNoOutsideSources() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("guinode", dir.resolve("data"), "127.0.0.1", 0,
                Optional.of(PASSWORD)))) {
            TestClient client = new TestClient(daemon.port());
            HttpResponse<String> page = client.send("GET", "/", Map.of());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
            assertThat(page.headers().firstValue("Cache-Control")).contains("no-cache");
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v -> assertThat(v).contains("default-src 'self'"));
            assertThat(page.body()).doesNotContain("http://", "https://");
            Matcher script = Pattern.compile("src=\"(/assets/[^\"]+\\.js)\"").matcher(page.body());
            assertThat(script.find()).as(page.body()).isTrue();
            HttpResponse<String> asset = client.send("GET", script.group(1), Map.of());
            assertThat(asset.statusCode()).isEqualTo(200);
            assertThat(asset.headers().firstValue("Cache-Control")).contains("public, max-age=31536000, immutable");
            assertThat(asset.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/javascript"));
            assertThat(client.send("GET", "/assets/..%2F..%2Fetc%2Fpasswd", Map.of()).statusCode()).isEqualTo(404);
            assertThat(client.send("GET", "/assets/nosuch.js", Map.of()).statusCode()).isEqualTo(404);
        }
    }

    @Test
    void administratorLogsInSeesTheNodeAndItsStorageAndLogsOut() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("guinode", dir.resolve("data"), "127.0.0.1", 0,
                Optional.of(PASSWORD)))) {
            WebDriver browser = browser();
            try {
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                browser.get("https://127.0.0.1:" + daemon.port() + "/");

                // a wrong password is refused with the API's message, and nothing else happens
                login(browser, wait, "admin", "wrong-password");
                WebElement error = wait.until(b -> b.findElements(By.id("login-error")).stream().findFirst().orElse(null));
                assertThat(error.getText()).startsWith("Login failed");
                assertThat(browser.findElements(By.id("resource-tree"))).isEmpty();

                login(browser, wait, "admin", PASSWORD);
                wait.until(b -> b.findElements(By.cssSelector("#resource-tree span[data-id='node/guinode']")).size() == 1);
                assertThat(browser.findElement(By.id("user")).getText()).isEqualTo("admin@pve");
                wait.until(b -> b.findElements(By.cssSelector("#resource-tree span[data-id='storage/guinode/local']")).size() == 1);

                browser.findElement(By.cssSelector("#resource-tree span[data-id='node/guinode']")).click();
                wait.until(b -> b.findElement(By.id("summary-status")).getText().equals("online"));
                assertThat(browser.findElement(By.cssSelector("#summary h2")).getText()).isEqualTo("guinode");

                // a task started through the API shows in the task bar without a reload
                TestClient.Answer created = new TestClient(daemon.port()).login("admin@pve", PASSWORD)
                        .post("/nodes/guinode/qemu", Map.of("vmid", "150", "memory", "64", "kvm", "0"));
                assertThat(created.status()).as(created.body().toString()).isEqualTo(200);
                try {
                    wait.until(b -> b.findElement(By.id("tasks")).getText().contains("qmcreate 150"));
                } catch (org.openqa.selenium.TimeoutException e) {
                    throw new AssertionError("task bar: " + browser.findElement(By.id("tasks")).getText(), e);
                }
                wait.until(b -> b.findElements(By.cssSelector("#resource-tree span[data-id='qemu/150']")).size() == 1);

                browser.findElement(By.id("logout")).click();
                wait.until(b -> b.findElements(By.id("username")).size() == 1);
                browser.navigate().refresh();
                wait.until(b -> b.findElements(By.id("username")).size() == 1);
                assertThat(browser.findElements(By.id("resource-tree"))).isEmpty();
            } finally {
                browser.quit();
            }
        }
    }

    @Test
    void userWithATotpKeyIsAskedForTheCodeAndLogsInWithIt() throws Exception {
        try (CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("guinode", dir.resolve("data"), "127.0.0.1", 0,
                Optional.of(PASSWORD)))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            assertThat(admin.post("/access/users", Map.of("userid", "mfa@pve", "password", "mfa-pass-123")).status()).isEqualTo(200);
            String uri = "otpauth://totp/corral:mfa?secret=" + "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" + "&issuer=corral";
            Totp totp = Totp.parseUri(uri);
            long step = totp.step(System.currentTimeMillis() / 1000);
            TestClient.Answer added = new TestClient(daemon.port()).login("mfa@pve", "mfa-pass-123")
                    .post("/access/tfa/mfa@pve", Map.of("type", "totp", "totp", uri, "value", totp.code(step), "password", "mfa-pass-123"));
            assertThat(added.status()).as(added.body().toString()).isEqualTo(200);

            WebDriver browser = browser();
            try {
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                browser.get("https://127.0.0.1:" + daemon.port() + "/");
                login(browser, wait, "mfa", "mfa-pass-123");
                wait.until(b -> b.findElements(By.id("tfa-code")).size() == 1);
                assertThat(browser.findElements(By.id("resource-tree"))).isEmpty();

                // the code used to add the key was used once: it is refused, the next one is taken
                browser.findElement(By.id("tfa-code")).sendKeys(totp.code(step));
                browser.findElement(By.id("tfa-submit")).click();
                wait.until(b -> b.findElements(By.id("login-error")).size() == 1);
                assertThat(browser.findElements(By.id("resource-tree"))).isEmpty();
                browser.findElement(By.id("tfa-code")).sendKeys(totp.code(step + 1));
                browser.findElement(By.id("tfa-submit")).click();
                wait.until(b -> b.findElements(By.id("user")).size() == 1);
                assertThat(browser.findElement(By.id("user")).getText()).isEqualTo("mfa@pve");
            } finally {
                browser.quit();
            }
        }
    }

    @Test
    void openIdRealmSignsInThroughTheProvidersRedirect() throws Exception {
        try (org.corral.access.TestOpenIdProvider provider = new org.corral.access.TestOpenIdProvider("gui-client-key");
                CorralDaemon daemon = CorralDaemon.start(new CorralDaemon.Options("guinode", dir.resolve("data"), "127.0.0.1", 0,
                        Optional.of(PASSWORD), false, Optional.of(provider.clientTls())))) {
            TestClient admin = new TestClient(daemon.port()).login("admin@pve", PASSWORD);
            TestClient.Answer realm = admin.post("/access/domains", Map.of("realm", "corp", "type", "openid",
                    "issuer-url", provider.issuer(), "client-id", org.corral.access.TestOpenIdProvider.CLIENT_ID,
                    "client-key", "gui-client-key", "autocreate", "1", "comment", "Company"));
            assertThat(realm.status()).as(realm.body().toString()).isEqualTo(200);
            provider.signIn(Map.of("sub", "frank"));

            WebDriver browser = browser();
            try {
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                // a made-up way back from the provider is refused, saying why
                browser.get("https://127.0.0.1:" + daemon.port() + "/?code=made-up&state=made-up");
                WebElement error = wait.until(b -> b.findElements(By.id("login-error")).stream().findFirst().orElse(null));
                assertThat(error.getText()).contains("invalid OpenID state");
                assertThat(browser.getCurrentUrl()).doesNotContain("code=");

                browser.get("https://127.0.0.1:" + daemon.port() + "/");
                wait.until(b -> b.findElements(By.cssSelector("#realm option[value='corp']")).size() == 1);
                new Select(browser.findElement(By.id("realm"))).selectByValue("corp");
                // an OpenID realm asks for no password here: the provider does
                wait.until(b -> b.findElements(By.id("password")).isEmpty());
                assertThat(browser.findElement(By.id("login")).getText()).contains("OpenID");
                browser.findElement(By.id("login")).click();

                try {
                    wait.until(b -> b.findElements(By.id("user")).size() == 1);
                } catch (org.openqa.selenium.TimeoutException e) {
                    throw new AssertionError("at " + browser.getCurrentUrl() + ": " + browser.findElement(By.tagName("body")).getText(), e);
                }
                assertThat(browser.findElement(By.id("user")).getText()).isEqualTo("frank@corp");
                // the code and state are gone from the address bar
                assertThat(browser.getCurrentUrl()).doesNotContain("code=").doesNotContain("state=");
                assertThat(admin.get("/access/users/frank@corp").status()).isEqualTo(200);
            } finally {
                browser.quit();
            }
        }
    }

    static void login(WebDriver browser, WebDriverWait wait, String user, String password) {
        wait.until(b -> b.findElements(By.cssSelector("#realm option[value='pve']")).size() == 1);
        WebElement name = browser.findElement(By.id("username"));
        name.clear();
        name.sendKeys(user);
        WebElement secret = browser.findElement(By.id("password"));
        secret.clear();
        secret.sendKeys(password);
        new Select(browser.findElement(By.id("realm"))).selectByValue("pve");
        browser.findElement(By.id("login")).click();
    }

    /** Debian's chromium through Debian's chromedriver: Selenium never downloads a browser or driver. */
    static WebDriver browser() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                "--disable-dev-shm-usage", "--disable-gpu", "--ignore-certificate-errors");
        options.setAcceptInsecureCerts(true);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File("/usr/bin/chromedriver"))
                .usingAnyFreePort().build();
        // a hung browser fails its command within a minute, not Selenium's default of three
        return new ChromeDriver(service, options, ClientConfig.defaultConfig().readTimeout(Duration.ofSeconds(60)));
    }
}
