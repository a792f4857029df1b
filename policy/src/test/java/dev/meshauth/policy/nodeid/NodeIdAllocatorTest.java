package dev.meshauth.policy.nodeid;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NodeIdAllocatorTest {
    private final NodeIdAllocator ids = new NodeIdAllocator(NodeIdAllocator.State.EMPTY);

    @Test
    void nodesAreNumberedFromOneAndKeepTheirIds() {
        assertThat(ids.idOf("node-a")).contains(1);
        assertThat(ids.idOf("node-b")).contains(2);
        assertThat(ids.idOf("node-a")).contains(1);
    }

    @Test
    void churnBeyond65535AdditionsKeepsNumberingAndNeverGivesTwoLiveNodesOneId() {
        Set<Integer> live = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            live.add(ids.idOf("stable-" + i).orElseThrow());
        }
        for (int i = 0; i < 70_000; i++) { // a cluster that replaces nodes (autoscaling, spot instances)
            int id = ids.idOf("churn-" + i).orElseThrow();
            assertThat(live).as("a live node's id is never handed out").doesNotContain(id);
            ids.release("churn-" + i);
        }
        assertThat(ids.idOf("stable-7")).as("live nodes keep their ids through the churn").contains(8);
    }

    @Test
    void aFreedIdComesBackOnlyWhenEveryIdWasUsedOnceAndOldestFirst() {
        ids.idOf("gone-1");
        ids.idOf("gone-2");
        ids.release("gone-2");
        ids.release("gone-1");
        assertThat(ids.idOf("new")).as("a never-used id first").contains(3);
        NodeIdAllocator full = new NodeIdAllocator(new NodeIdAllocator.State(java.util.Map.of(), NodeIdAllocator.MAX_ID + 1,
                java.util.List.of(new NodeIdAllocator.Freed(9, "x"), new NodeIdAllocator.Freed(4, "y"))));
        assertThat(full.idOf("z")).as("oldest freed").contains(9);
        assertThat(full.idOf("w")).contains(4);
        assertThat(full.idOf("v")).as("all 65,535 ids live").isEmpty();
    }

    @Test
    void aNodeThatReturnsGetsItsOldIdBack() {
        ids.idOf("node-a");
        ids.idOf("node-b");
        ids.release("node-a");
        ids.idOf("node-c");
        assertThat(ids.idOf("node-a")).contains(1);
    }

    @Test
    void idsAreStableAcrossARestartThroughTheStore(@TempDir Path dir) throws IOException {
        NodeIdStore store = new NodeIdStore(dir.resolve("sub/node-ids"));
        NodeIds first = NodeIds.persistent(store, (st, e) -> { throw new AssertionError("save failed", e); });
        first.idOf("node-a");
        first.idOf("node-b");
        first.idOf("node-c");
        first.release("node-b");
        NodeIds restarted = NodeIds.persistent(store, (st, e) -> { throw new AssertionError("save failed", e); });
        assertThat(restarted.idOf("node-c")).contains(3);
        assertThat(restarted.idOf("node-a")).contains(1);
        assertThat(restarted.idOf("node-d")).as("the counter persisted too").contains(4);
        assertThat(restarted.idOf("node-b")).as("and the freed list").contains(2);
        try (var files = Files.list(dir.resolve("sub"))) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no temporary file left").containsExactly("node-ids");
        }
    }

    @Test
    void aFailedSaveKeepsTheIdAndIsReported(@TempDir Path dir) throws IOException {
        NodeIdStore store = new NodeIdStore(dir.resolve("sub/node-ids"));
        java.util.List<IOException> failures = new java.util.ArrayList<>();
        NodeIds ids = NodeIds.persistent(store, (st, e) -> failures.add(e));
        Files.writeString(dir.resolve("sub"), "a file where the store's directory should be");
        assertThat(ids.idOf("node-a")).as("allocated in memory all the same").contains(1);
        assertThat(ids.idOf("node-a")).contains(1);
        assertThat(failures).as("one failed save, for the one change").hasSize(1);
    }

    @Test
    void aMalformedFileIsRefusedNamingTheLineAndTheFix(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("node-ids"), "node node-a 1\nnode node-b 70000\n");
        assertThatThrownBy(() -> new NodeIdStore(f).load()).isInstanceOf(IOException.class)
                .hasMessageContaining("line 2").hasMessageContaining("outside 1..65535").hasMessageContaining("delete it");
        assertThat(NodeIds.inMemory().idOf("x")).isEqualTo(Optional.of(1));
    }
}
