package dev.meshauth.agent.node;

import dev.meshauth.agent.node.source.ClusterSnapshot;
import dev.meshauth.policy.endpoint.NodeInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The cluster view has one owner, the agent's loop: views apply in arrival order and a stale one never wins. */
class ClusterViewTest {
    private final ExecutorService loop = Executors.newSingleThreadExecutor();
    private final Needs needs = new Needs("node-1", Optional.empty(), "test");
    private final List<ClusterSnapshot> applied = new CopyOnWriteArrayList<>();

    private static ClusterSnapshot view(String... nodes) {
        List<NodeInfo> n = new java.util.ArrayList<>();
        for (int i = 0; i < nodes.length; i++) {
            n.add(new NodeInfo(nodes[i], i + 1, "127.0.0." + (i + 1)));
        }
        return new ClusterSnapshot(n, List.of(), List.of(), Optional.empty());
    }

    private void drain() throws Exception {
        loop.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void tearDown() {
        loop.shutdownNow();
    }

    @Test
    void aNewerViewArrivingWhileARenumberingReadsCiliumIsAppliedAfterItAndStays() throws Exception {
        ClusterView cluster = new ClusterView(loop, needs);
        ClusterSnapshot v1 = view("node-1", "node-2");
        ClusterSnapshot v2 = view("node-1", "node-2", "node-3");
        cluster.install(v1);
        cluster.attach(s -> applied.add(s.raw()));
        CountDownLatch reading = new CountDownLatch(1);
        CountDownLatch newerDelivered = new CountDownLatch(1);
        cluster.rederiveIf(s -> { // Cilium's node map is read slowly; the source delivers a newer view meanwhile
            reading.countDown();
            try {
                newerDelivered.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return true;
        });
        assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();
        Thread source = Thread.ofPlatform().start(() -> cluster.offer(v2));
        source.join();
        newerDelivered.countDown();
        drain();
        assertThat(cluster.current().raw()).as("the newest view stays").isEqualTo(v2);
        assertThat(applied).containsExactly(v1, v1, v2);
    }

    @Test
    void aViewDeliveredWhileStartingIsAppliedRightAfterTheFirst() throws Exception {
        ClusterView cluster = new ClusterView(loop, needs);
        ClusterSnapshot v1 = view("node-1");
        ClusterSnapshot v2 = view("node-1", "node-2");
        cluster.offer(v2); // the source's watcher fired before start() returned its first view
        cluster.install(v1);
        cluster.attach(s -> applied.add(s.raw()));
        drain();
        assertThat(applied).containsExactly(v1, v2);
        assertThat(cluster.current().raw()).isEqualTo(v2);
    }

    @Test
    void aRefusedViewKeepsTheLastGoodState() throws Exception {
        ClusterView cluster = new ClusterView(loop, needs);
        ClusterSnapshot v1 = view("node-1", "node-2");
        cluster.install(v1);
        cluster.attach(s -> applied.add(s.raw()));
        cluster.offer(view("node-7")); // this agent's node is missing: refused
        drain();
        assertThat(cluster.current().raw()).isEqualTo(v1);
        assertThat(applied).containsExactly(v1);
    }
}
