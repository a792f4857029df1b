package dev.meshauth.bpf.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces joined by a veth pair, with addresses from 198.18.0.0/15 (RFC 2544 benchmark
 * space) and, for IPv6, from 2001:2::/48 (RFC 5180, its IPv6 counterpart), only ever assigned inside
 * these namespaces; made with iproute2 and deleted on close even when a test failed. Deleting a namespace deletes
 * its end of the pair, and with it the other end and any tcx link on them.
 */
public final class TestNetwork implements AutoCloseable {
    private final String nsA;
    private final String nsB;
    private final String ifA;
    private final String ifB;
    private final String addrA;
    private final String addrB;
    private final String addrA6;
    private final String addrB6;

    private TestNetwork(String tag, int subnet) {
        String id = tag + ProcessHandle.current().pid() % 100000;
        this.nsA = "ma-" + id + "-a";
        this.nsB = "ma-" + id + "-b";
        this.ifA = "ma" + id + "a";
        this.ifB = "ma" + id + "b";
        this.addrA = "198.18." + subnet + ".1";
        this.addrB = "198.18." + subnet + ".2";
        this.addrA6 = "2001:2:0:" + Integer.toHexString(subnet) + "::1";
        this.addrB6 = "2001:2:0:" + Integer.toHexString(subnet) + "::2";
    }

    /**
     * Creates the namespaces and the pair: {@code a} gets 198.18.SUBNET.1/24 and 2001:2:0:SUBNET::1/64,
     * {@code b} .2 and ::2 (no duplicate address detection, so IPv6 works at once).
     *
     * @param tag    a short tag (letters) unique among concurrently running tests
     * @param subnet third octet, 0..255
     */
    public static TestNetwork create(String tag, int subnet) throws IOException, InterruptedException {
        TestNetwork n = new TestNetwork(tag, subnet);
        try {
            n.close(); // leftovers from a killed earlier run
            ip("netns", "add", n.nsA);
            ip("netns", "add", n.nsB);
            ip("link", "add", n.ifA, "netns", n.nsA, "type", "veth", "peer", "name", n.ifB, "netns", n.nsB);
            ip("-n", n.nsA, "addr", "add", n.addrA + "/24", "dev", n.ifA);
            ip("-n", n.nsB, "addr", "add", n.addrB + "/24", "dev", n.ifB);
            ip("-n", n.nsA, "addr", "add", n.addrA6 + "/64", "dev", n.ifA, "nodad");
            ip("-n", n.nsB, "addr", "add", n.addrB6 + "/64", "dev", n.ifB, "nodad");
            for (String[] ns : new String[][] {{n.nsA, n.ifA}, {n.nsB, n.ifB}}) {
                ip("-n", ns[0], "link", "set", "lo", "up");
                ip("-n", ns[0], "link", "set", ns[1], "up");
            }
            return n;
        } catch (IOException | InterruptedException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** Path of namespace a, for {@code setns}. */
    public Path nsA() {
        return Path.of("/var/run/netns", nsA);
    }

    /** Path of namespace b. */
    public Path nsB() {
        return Path.of("/var/run/netns", nsB);
    }

    /** The veth end in namespace a. */
    public String ifA() {
        return ifA;
    }

    /** The veth end in namespace b. */
    public String ifB() {
        return ifB;
    }

    /** Address of a. */
    public String addrA() {
        return addrA;
    }

    /** Address of b. */
    public String addrB() {
        return addrB;
    }

    /** IPv6 address of a. */
    public String addrA6() {
        return addrA6;
    }

    /** IPv6 address of b. */
    public String addrB6() {
        return addrB6;
    }

    /** Namespace a's name, for {@code ip netns exec}. */
    public String nameA() {
        return nsA;
    }

    /** Namespace b's name. */
    public String nameB() {
        return nsB;
    }

    /**
     * The counters of one group of a kernel counter file in namespace {@code ns} ({@code /proc/net/snmp}
     * group {@code Tcp}, {@code /proc/net/netstat} group {@code TcpExt}...), read through {@code ip netns exec}:
     * {@code /proc/net} is the reading process's namespace, not a thread's.
     */
    public static java.util.Map<String, Long> counters(String ns, String file, String group)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "netns", "exec", ns, "cat", file).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("reading " + file + " in " + ns + " failed: " + out);
        }
        List<String[]> rows = out.lines().filter(l -> l.startsWith(group + ":")).map(l -> l.split("\\s+")).toList();
        java.util.Map<String, Long> counters = new java.util.HashMap<>();
        for (int i = 1; i < rows.get(0).length; i++) {
            counters.put(rows.get(0)[i], Long.parseLong(rows.get(1)[i]));
        }
        return counters;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        List<String> failures = new ArrayList<>();
        for (String ns : List.of(nsA, nsB)) {
            if (java.nio.file.Files.exists(Path.of("/var/run/netns", ns))) {
                String err = run(List.of("ip", "netns", "del", ns));
                if (err != null) {
                    failures.add(err);
                }
            }
        }
        if (!failures.isEmpty()) {
            throw new IOException("cleaning up test namespaces failed: " + failures);
        }
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(List.of(args));
        String err = run(cmd);
        if (err != null) {
            throw new IOException(err);
        }
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return String.join(" ", cmd) + ": timed out";
        }
        return p.exitValue() == 0 ? null : String.join(" ", cmd) + ": exit " + p.exitValue() + ": " + out.strip();
    }
}
