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
 * changes every {@code poll} (an edit applies within a second at the default). Each file stands alone: a
 * file whose edit does not parse keeps its last good content and is listed as a problem until a good edit
 * replaces it, while edits of every other file apply (a broken policy never holds back an endpoint's
 * removal, which must revoke its entries). At start every file must parse: nothing starts otherwise.
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
    private EndpointsFile.Contents goodEndpoints; // loop thread only (after start): last good of each file
    private final Map<Path, List<Policy>> goodPolicies = new HashMap<>(); // loop thread only (after start)
    private ClusterSnapshot emitted; // loop thread only (after start)

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
        goodEndpoints = parseEndpoints();
        for (Path f : policyFiles()) {
            goodPolicies.put(f, parsePolicies(f));
        }
        emitted = snapshot();
        loop.scheduleWithFixedDelay(() -> reloadIfChanged(onChange), poll.toMillis(), poll.toMillis(), TimeUnit.MILLISECONDS);
        return emitted;
    }

    private EndpointsFile.Contents parseEndpoints() throws IOException, PolicyException {
        return EndpointsFile.parse(endpoints.toString(), SourceFiles.read("endpoints file", endpoints), new IdentityAllocator(identitiesFile));
    }

    private static List<Policy> parsePolicies(Path f) throws IOException, PolicyException {
        return PolicyParser.parse(f.toString(), SourceFiles.read(f)).policies();
    }

    private ClusterSnapshot snapshot() {
        List<Policy> all = new ArrayList<>();
        goodPolicies.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> all.addAll(e.getValue()));
        return new ClusterSnapshot(goodEndpoints.nodes(), goodEndpoints.endpoints(), all,
                Optional.of(ClusterSnapshot.identitiesOf(goodEndpoints.endpoints())));
    }

    private List<Path> policyFiles() throws IOException {
        return SourceFiles.expand(policies);
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
            Map<Path, String> before = seen;
            seen = now;
            if (!now.get(endpoints).equals(before.get(endpoints))) {
                reloadOne(endpoints, () -> goodEndpoints = parseEndpoints());
            }
            goodPolicies.keySet().retainAll(now.keySet()); // deleted files take their policies with them
            problems.keySet().removeIf(where -> now.keySet().stream().noneMatch(f -> where.equals(f.toString())));
            for (Path f : now.keySet()) {
                if (!f.equals(endpoints) && !now.get(f).equals(before.get(f))) {
                    reloadOne(f, () -> goodPolicies.put(f, parsePolicies(f)));
                }
            }
            ClusterSnapshot next = snapshot();
            if (!next.equals(emitted)) {
                emitted = next;
                onChange.accept(next);
            }
        } catch (IOException | RuntimeException e) {
            problems.put(describe(), e.toString());
            LOG.atError().setMessage("configuration reload failed, the last good state stays")
                    .addKeyValue("error", e.toString())
                    .log();
        }
    }

    /** A read that may fail without changing anything. */
    private interface Reload {
        void run() throws IOException, PolicyException;
    }

    /** Re-reads one file: its new content, or its last good one and a problem under its name. */
    private void reloadOne(Path f, Reload reload) {
        try {
            reload.run();
            problems.remove(f.toString());
        } catch (PolicyException | IOException e) {
            problems.put(f.toString(), e.getMessage());
            LOG.atError().addKeyValue("file", f).addKeyValue("problems", e.getMessage().replace('\n', ';'))
                    .log("edit refused: this file keeps its last good content, the other files' edits apply");
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
