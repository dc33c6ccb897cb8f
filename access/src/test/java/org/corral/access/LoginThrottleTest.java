package org.corral.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.corral.core.error.Unauthorized;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
    private final MutableClock clock = new MutableClock(Instant.ofEpochSecond(1_700_000_000L));
    private final LoginThrottle throttle = new LoginThrottle(new LoginThrottle.Settings(Duration.ofMillis(10), Duration.ofMillis(40),
            3, 5, Duration.ofMinutes(10), Duration.ofMinutes(5)), clock);

    @Test
    void delayDoublesWithEachFailureUpToTheMaximum() {
        assertThat(throttle.delay(1)).isEqualTo(Duration.ofMillis(10));
        assertThat(throttle.delay(2)).isEqualTo(Duration.ofMillis(20));
        assertThat(throttle.delay(3)).isEqualTo(Duration.ofMillis(40));
        assertThat(throttle.delay(30)).isEqualTo(Duration.ofMillis(40));
    }

    @Test
    void failureWaitsBeforeReturning() {
        long start = System.nanoTime();
        throttle.failed("a@pve", "192.0.2.1");
        throttle.failed("a@pve", "192.0.2.1");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(30));
    }

    @Test
    void moreFailuresThanAllowedLockTheUserForAWhile() {
        for (int i = 0; i < 4; i++) {
            assertThatCode(() -> throttle.checkAllowed("a@pve", "192.0.2." + 10)).doesNotThrowAnyException();
            throttle.failed("a@pve", "192.0.2." + i);
        }
        assertThatThrownBy(() -> throttle.checkAllowed("a@pve", "198.51.100.1"))
                .isInstanceOf(Unauthorized.class).hasMessage("too many failed login attempts");
        assertThatCode(() -> throttle.checkAllowed("b@pve", "198.51.100.1")).doesNotThrowAnyException();

        clock.advance(Duration.ofMinutes(5));
        assertThatCode(() -> throttle.checkAllowed("a@pve", "198.51.100.1")).doesNotThrowAnyException();
    }

    @Test
    void moreFailuresThanAllowedFromOneAddressLockTheAddress() {
        for (int i = 0; i < 6; i++) {
            throttle.failed("user" + i + "@pve", "192.0.2.7");
        }
        assertThatThrownBy(() -> throttle.checkAllowed("fresh@pve", "192.0.2.7")).isInstanceOf(Unauthorized.class);
        assertThatCode(() -> throttle.checkAllowed("fresh@pve", "192.0.2.8")).doesNotThrowAnyException();
    }

    @Test
    void failuresOutsideTheWindowDoNotCount() {
        for (int i = 0; i < 3; i++) {
            throttle.failed("a@pve", "192.0.2.1");
            clock.advance(Duration.ofMinutes(6));
        }
        throttle.failed("a@pve", "192.0.2.1");
        assertThatCode(() -> throttle.checkAllowed("a@pve", "192.0.2.1")).doesNotThrowAnyException();
    }

    @Test
    void successClearsTheRecord() {
        for (int i = 0; i < 3; i++) {
            throttle.failed("root@pam", "192.0.2.1");
        }
        throttle.succeeded("root@pam", "192.0.2.1");
        throttle.failed("root@pam", "192.0.2.1");
        assertThatCode(() -> throttle.checkAllowed("root@pam", "192.0.2.1")).doesNotThrowAnyException();
    }
}
