package org.corral.core.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import java.util.Set;
import org.corral.core.error.ParameterError;
import org.corral.core.task.TaskFilter.Source;
import org.corral.core.task.TaskFilter.StatusType;
import org.junit.jupiter.api.Test;

class TaskFilterTest {
    @Test
    void exitStatusesFallIntoProxmoxStatusTypes() {
        assertThat(StatusType.of(Optional.of("OK"))).isEqualTo(StatusType.OK);
        assertThat(StatusType.of(Optional.of("WARNINGS: 12"))).isEqualTo(StatusType.WARNING);
        assertThat(StatusType.of(Optional.of("unexpected status"))).isEqualTo(StatusType.UNKNOWN);
        assertThat(StatusType.of(Optional.empty())).as("running").isEqualTo(StatusType.UNKNOWN);
        assertThat(StatusType.of(Optional.of("interrupted by signal"))).isEqualTo(StatusType.ERROR);
        assertThat(StatusType.of(Optional.of("unexpected status - daemon restarted while task was running"))).isEqualTo(StatusType.ERROR);
        assertThat(StatusType.of(Optional.of("WARNINGS: many"))).isEqualTo(StatusType.ERROR);
    }

    @Test
    void statusFilterListAcceptsProxmoxSeparatorsAndAnyCase() {
        assertThat(StatusType.parseList("ok,Warning; error unknown")).containsExactlyInAnyOrder(StatusType.values());
        assertThat(StatusType.parseList("")).isEmpty();
        assertThatThrownBy(() -> StatusType.parseList("ok,failed"))
                .isInstanceOf(ParameterError.class)
                .hasMessageContaining("statusfilter");
    }

    @Test
    void sourceParsesProxmoxValuesOnly() {
        assertThat(Source.parse("archive")).isEqualTo(Source.ARCHIVE);
        assertThat(Source.parse("active")).isEqualTo(Source.ACTIVE);
        assertThat(Source.parse("all")).isEqualTo(Source.ALL);
        assertThatThrownBy(() -> Source.parse("running")).isInstanceOf(ParameterError.class).hasMessageContaining("source");
    }

    @Test
    void negativeStartOrLimitIsAParameterError() {
        assertThatThrownBy(() -> TaskFilter.defaults().withStart(-1))
                .isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey("start"));
        assertThatThrownBy(() -> TaskFilter.defaults().withLimit(-1))
                .isInstanceOf(ParameterError.class)
                .satisfies(e -> assertThat(((ParameterError) e).errors()).containsKey("limit"));
    }

    @Test
    void emptyStatusFilterMatchesNothingAndErrorsOverridesIt() {
        TaskEntry ok = TaskEntry.of(Upid.parse("UPID:pve1:00001234:00ABCDEF:65000000:qmstart:100:root@pam:"),
                Optional.of("OK"), Optional.of(1L));
        TaskEntry failed = TaskEntry.of(Upid.parse("UPID:pve1:00001234:00ABCDF0:65000000:qmstart:100:root@pam:"),
                Optional.of("boom"), Optional.of(1L));

        assertThat(TaskFilter.defaults().withStatusfilter(Set.of()).matches(ok)).isFalse();
        assertThat(TaskFilter.defaults().withStatusfilter(Set.of(StatusType.OK)).withErrors(true).matches(ok)).isFalse();
        assertThat(TaskFilter.defaults().withStatusfilter(Set.of(StatusType.OK)).withErrors(true).matches(failed)).isTrue();
    }
}
