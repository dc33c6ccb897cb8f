package org.corral.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.corral.core.config.ConfigStore;
import org.corral.core.config.InMemoryConfigStore;
import org.corral.core.config.StaleVersionException;
import org.junit.jupiter.api.Test;

class WriteThroughStoreTest {
    @Test
    void everyDoneWriteIsToldBeforeItReturnsAndRefusedOnesAreNot() {
        InMemoryConfigStore inner = new InMemoryConfigStore();
        List<String> told = new ArrayList<>();
        // the listener reads what it is told about, as the guest index does
        WriteThroughStore store = new WriteThroughStore(inner, path -> told.add(path + "=" + inner.read(path).map(f -> f.text()).orElse("-")));
        store.write("a.cfg", "1", ConfigStore.NEW);
        store.overwrite("a.cfg", "2");
        store.update("a.cfg", text -> text + "3");
        assertThatThrownBy(() -> store.write("a.cfg", "x", 0)).isInstanceOf(StaleVersionException.class);
        store.delete("a.cfg", inner.read("a.cfg").orElseThrow().version());
        assertThat(told).containsExactly("a.cfg=1", "a.cfg=2", "a.cfg=23", "a.cfg=-");
    }

    @Test
    void aFailingListenerDoesNotFailTheWrite() {
        InMemoryConfigStore inner = new InMemoryConfigStore();
        WriteThroughStore store = new WriteThroughStore(inner, path -> {
            throw new IllegalStateException("index unavailable");
        });
        assertThat(store.write("b.cfg", "text", ConfigStore.NEW)).isZero();
        assertThat(inner.read("b.cfg").orElseThrow().text()).isEqualTo("text");
    }
}
