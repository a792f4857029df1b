package dev.meshauth.agent.node.source;

import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.EndpointsFile;
import dev.meshauth.policy.endpoint.IdentityAllocator;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.yaml.PolicyParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Standalone source: an endpoints file (nodes and endpoints) and policy files or directories, polled for
 * changes every {@code poll} (an edit applies within a second at the default). An edit that does not
 * parse is reported and the last good view stays; the problem is listed until a good edit replaces it.
 */
public final class FileSource implements ClusterSource {
    private static final Logger LOG = LoggerFactory.getLogger(FileSource.class);

    private final Path endpoints;
    private final List<Path> policies;
    private final Optional<Path> identitiesFile;
    private final Duration poll;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshauth-file-source").factory());
    private final Map<String, String> problems = new ConcurrentHashMap<>();
    private Map<Path, String> seen = Map.of(); // loop thread only (after start): content digests

    /** Over these files; nothing is read until {@link #start}. */
    public FileSource(Path endpoints, List<Path> policies, Optional<Path> identitiesFile, Duration poll) {
        this.endpoints = endpoints;
        this.policies = List.copyOf(policies);
        this.identitiesFile = identitiesFile;
        this.poll = poll;
    }

    @Override
    public ClusterSnapshot start(Consumer<ClusterSnapshot> onChange) throws PolicyException, IOException {
        seen = stamps();
        ClusterSnapshot first = load();
        loop.scheduleWithFixedDelay(() -> reloadIfChanged(onChange), poll.toMillis(), poll.toMillis(), TimeUnit.MILLISECONDS);
        return first;
    }

    private ClusterSnapshot load() throws IOException, PolicyException {
        EndpointsFile.Contents c = EndpointsFile.parse(endpoints.toString(), Files.readString(endpoints),
                new IdentityAllocator(identitiesFile));
        List<Policy> parsed = new ArrayList<>();
        for (Path f : policyFiles()) {
            parsed.addAll(PolicyParser.parse(f.toString(), Files.readString(f)).policies());
        }
        return new ClusterSnapshot(c.nodes(), c.endpoints(), parsed,
                Optional.of(ClusterSnapshot.identitiesOf(c.endpoints())));
    }

    private List<Path> policyFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path p : policies) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().forEach(out::add);
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * A digest of every file's content: modification times have the kernel's coarse clock granularity
     * (milliseconds), so two edits close together could look like one; the files are small.
     */
    private Map<Path, String> stamps() throws IOException {
        Map<Path, String> m = new HashMap<>();
        m.put(endpoints, digest(endpoints));
        for (Path f : policyFiles()) {
            m.put(f, digest(f));
        }
        return m;
    }

    private void reloadIfChanged(Consumer<ClusterSnapshot> onChange) {
        try {
            Map<Path, String> now = stamps();
            if (now.equals(seen)) {
                return;
            }
            seen = now;
            ClusterSnapshot next = load();
            problems.clear();
            onChange.accept(next);
        } catch (PolicyException e) {
            problems.put(describe(), e.getMessage());
            LOG.error("configuration edit refused, the last good state stays: problems=\"{}\"",
                    e.getMessage().replace('\n', ';'));
        } catch (IOException | RuntimeException e) {
            problems.put(describe(), e.toString());
            LOG.error("configuration reload failed, the last good state stays: error=\"{}\"", e.toString());
        }
    }

    private static String digest(Path f) throws IOException {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(f)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    @Override
    public String describe() {
        return "endpoints file " + endpoints + ", policies " + policies;
    }

    @Override
    public Map<String, String> problems() {
        return Map.copyOf(problems);
    }

    @Override
    public void close() {
        loop.shutdownNow();
    }
}
