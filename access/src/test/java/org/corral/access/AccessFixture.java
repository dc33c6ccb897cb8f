package org.corral.access;

import org.corral.core.config.InMemoryConfigStore;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.corral.core.access.AuthContext;
import org.corral.core.api.ApiDispatcher;
import org.corral.core.api.ApiRegistry;
import org.corral.core.api.HttpVerb;
import org.corral.core.console.ConsoleProxies;
import org.corral.core.task.TaskManager;

/** An initialized access control over an in-memory store, with the API dispatcher in front of it. */
public final class AccessFixture implements AutoCloseable {
    public static final String ADDRESS = "192.0.2.10";
    public static final String ADMIN_PASSWORD = "admin-secret-1";
    public static final AuthContext ROOT = AuthContext.user("root@pam", ADDRESS);
    public static final AuthContext ADMIN = AuthContext.user("admin@pve", ADDRESS);
    public static final AuthContext ANONYMOUS = AuthContext.anonymous(ADDRESS);

    public final InMemoryConfigStore store = new InMemoryConfigStore();
    public final MutableClock clock = new MutableClock(Instant.ofEpochSecond(1_800_000_000L));
    /** The consoles whose tickets POST /access/vncticket checks; on {@link #clock}. */
    public final ConsoleProxies consoles = new ConsoleProxies(clock);
    public final AccessControl access;
    public final ApiDispatcher dispatcher;

    public AccessFixture() {
        this(true);
    }

    public AccessFixture(boolean watchStore) {
        this(watchStore, Optional.empty());
    }

    /** With the task manager the methods that start worker tasks use. */
    public AccessFixture(boolean watchStore, Optional<TaskManager> tasks) {
        this(watchStore, tasks, UnaryOperator.identity());
    }

    /** With settings changed by {@code adjust} (the outbound TLS of OpenID tests). */
    public AccessFixture(boolean watchStore, Optional<TaskManager> tasks, UnaryOperator<AccessSettings> adjust) {
        AccessControl.initialize(store, Optional.of(ADMIN_PASSWORD));
        AccessSettings settings = AccessSettings.defaults()
                .withThrottle(new LoginThrottle.Settings(Duration.ofMillis(1), Duration.ofMillis(5), 3, 100,
                        Duration.ofMinutes(10), Duration.ofMinutes(1)))
                .withArgon2(new PasswordHasher.Argon2(64, 1, 1))
                .withClusterName(() -> Optional.of("testcluster"))
                .withWatchStore(watchStore);
        this.access = new AccessControl(store, clock, adjust.apply(settings), tasks, consoles);
        this.dispatcher = new ApiDispatcher(new ApiRegistry(access.apiModules()), access);
    }

    /** Calls an API method; params as alternating names and values. */
    public Object call(HttpVerb verb, String path, AuthContext auth, String... params) throws Exception {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < params.length; i += 2) {
            map.put(params[i], params[i + 1]);
        }
        return dispatcher.dispatch(verb, path, map, auth);
    }

    public String userCfg() {
        return store.text("user.cfg");
    }

    public static AuthContext user(String userid) {
        return AuthContext.user(userid, ADDRESS);
    }

    public static AuthContext token(String tokenid) {
        return new AuthContext(tokenid.substring(0, tokenid.indexOf('!')), Optional.of(tokenid), ADDRESS);
    }

    @Override
    public void close() {
        access.close();
    }
}
