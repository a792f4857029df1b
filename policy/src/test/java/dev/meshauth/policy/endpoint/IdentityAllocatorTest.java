package dev.meshauth.policy.endpoint;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The identities file shared by the operator and the agents: writers in other allocators, threads and
 * processes never give one id to two label sets, and one label set gets one id whoever asks first.
 */
class IdentityAllocatorTest {
    /** Every label set has one id, every id one label set. */
    private static void assertOneToOne(Map<String, Long> byLabels) {
        Map<Long, String> byId = new HashMap<>();
        byLabels.forEach((labels, id) -> {
            String other = byId.put(id, labels);
            assertThat(other).as("id %d given to %s and %s", id, labels, other).isNull();
        });
    }

    private static Map<String, Long> fileContents(Path f) throws Exception {
        Map<String, Long> out = new HashMap<>();
        for (String line : Files.readAllLines(f)) {
            if (!line.startsWith("#") && !line.isBlank()) {
                out.put(line.substring(line.indexOf(' ') + 1), Long.parseLong(line.substring(0, line.indexOf(' '))));
            }
        }
        return out;
    }

    @Test
    void allocatorsInManyThreadsOverOneFileNeverShareAnId(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("identities");
        Map<String, Long> given = new ConcurrentHashMap<>();
        List<Thread> threads = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        for (int t = 0; t < 8; t++) {
            int worker = t;
            IdentityAllocator a = new IdentityAllocator(Optional.of(file)); // each loaded before any allocation
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    for (int i = 0; i < 25; i++) {
                        Map<String, String> labels = Map.of("app", "w" + worker + "-" + i);
                        given.put(IdentityAllocator.canonical(labels), a.identityOf(labels));
                    }
                    Map<String, String> shared = Map.of("app", "shared");
                    long id = a.identityOf(shared);
                    Long before = given.putIfAbsent(IdentityAllocator.canonical(shared), id);
                    assertThat(before == null || before == id).as("one id for one label set").isTrue();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(given).hasSize(8 * 25 + 1);
        assertOneToOne(given);
        assertThat(fileContents(file)).isEqualTo(given);
        IdentityAllocator later = new IdentityAllocator(Optional.of(file));
        given.forEach((labels, id) -> assertThat(later.identityOf(parse(labels))).isEqualTo(id));
    }

    @Test
    void allocatorsInSeparateProcessesNeverShareAnId(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("identities");
        List<Process> processes = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            processes.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), AllocateInAnotherProcess.class.getName(), file.toString(), "p" + p,
                    "30").redirectErrorStream(true).start());
        }
        Map<String, Long> given = new HashMap<>();
        for (Process p : processes) {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            for (String line : out.strip().split("\n")) {
                String[] f = line.split(" ");
                Long before = given.putIfAbsent(f[0], Long.parseLong(f[1]));
                assertThat(before == null || before == Long.parseLong(f[1])).as("%s: one id whoever asked", f[0]).isTrue();
            }
        }
        assertThat(given).hasSize(4 * 30 + 1);
        assertOneToOne(given);
        assertThat(fileContents(file)).isEqualTo(given);
        try (var leftovers = Files.list(dir)) {
            assertThat(leftovers.map(x -> x.getFileName().toString())).as("no temporary files left")
                    .containsExactlyInAnyOrder("identities", "identities.lock");
        }
    }

    private static Map<String, String> parse(String canonical) {
        Map<String, String> m = new HashMap<>();
        for (String kv : canonical.split(",")) {
            m.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        return m;
    }
}
