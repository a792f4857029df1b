package dev.meshauth.agent.lifecycle;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LifecycleTest {
    private final List<String> stopped = new ArrayList<>();
    private final Lifecycle life = new Lifecycle("test");

    @Test
    void startsInOrderAndClosesNewestFirstOnce() {
        assertThat(life.state()).isEqualTo(Lifecycle.State.NEW);
        life.start();
        assertThat(life.state()).isEqualTo(Lifecycle.State.STARTING);
        life.add("map", "m", () -> stopped.add("map"));
        life.add("listener", "l", () -> stopped.add("listener"));
        life.add("endpoints", "e", () -> stopped.add("endpoints"));
        life.running();
        assertThat(life.state()).isEqualTo(Lifecycle.State.RUNNING);
        life.close();
        life.close();
        assertThat(stopped).containsExactly("endpoints", "listener", "map");
        assertThat(life.state()).isEqualTo(Lifecycle.State.CLOSED);
    }

    @Test
    void aFailingStopIsLoggedAndTheOthersStillStop() {
        life.start();
        life.add("first", "a", () -> stopped.add("first"));
        life.add("broken", "b", () -> {
            throw new IllegalStateException("cannot stop");
        });
        life.add("last", "c", () -> stopped.add("last"));
        life.close(); // a start that failed part-way closes what it had, the same way
        assertThat(stopped).containsExactly("last", "first");
        assertThat(life.state()).isEqualTo(Lifecycle.State.CLOSED);
    }

    @Test
    void nothingIsAddedOutsideStartAndNoStepIsSkipped() {
        assertThatThrownBy(() -> life.add("early", "x", () -> { })).hasMessageContaining("test is NEW, not STARTING");
        assertThatThrownBy(life::running).hasMessageContaining("NEW");
        life.start();
        life.running();
        assertThatThrownBy(() -> life.add("late", "x", () -> { })).hasMessageContaining("RUNNING, not STARTING");
        assertThatThrownBy(life::start).hasMessageContaining("RUNNING, not NEW");
    }
}
