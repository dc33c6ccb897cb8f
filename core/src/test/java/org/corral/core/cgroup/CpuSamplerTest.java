package org.corral.core.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class CpuSamplerTest {
    @Test
    void firstSampleIsTheAverageSinceStartAndUnknownWithoutAnUptime() {
        CpuSampler sampler = new CpuSampler();
        // 5 s of CPU in 10 s on 2 CPUs: a quarter of them
        assertThat(sampler.share(100, 1, 5_000_000_000L, OptionalLong.of(10), 2).getAsDouble()).isCloseTo(0.25, within(1e-9));
        assertThat(sampler.share(101, 1, 5_000_000_000L, OptionalLong.empty(), 2)).isEmpty();
    }

    @Test
    void shareIsCappedAtAllCpus() {
        assertThat(CpuSampler.fraction(3_000_000_000L, 1_000_000_000L, 2)).isEqualTo(1.0);
        assertThat(CpuSampler.fraction(500_000_000L, 1_000_000_000L, 1)).isEqualTo(0.5);
    }

    @Test
    void aRestartedGuestStartsAfresh() {
        CpuSampler sampler = new CpuSampler();
        sampler.share(100, 1, 9_000_000_000L, OptionalLong.of(10), 1);
        assertThat(sampler.share(100, 2, 1_000_000_000L, OptionalLong.of(10), 1).getAsDouble()).isCloseTo(0.1, within(1e-9));
    }
}
