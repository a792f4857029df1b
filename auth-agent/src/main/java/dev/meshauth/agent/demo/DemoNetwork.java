package dev.meshauth.agent.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The demo's "pods": one network namespace each, every one joined by a veth pair to a router namespace
 * that forwards between them. Addresses come from 198.18.0.0/15 (benchmark space); nothing touches the
 * host's own namespace. Closing deletes every namespace, which deletes the veth pairs with them.
 */
final class DemoNetwork implements AutoCloseable {
    /** A pod: its namespace, its interface inside it, its address. */
    record Pod(String name, String netns, String iface, String ip) {
    }

    private final String prefix = "ma-demo-" + ProcessHandle.current().pid() % 100000 + "-";
    private final String router = prefix + "r";
    private final Map<String, Pod> pods = new LinkedHashMap<>();
    private final List<String> namespaces = new ArrayList<>();

    /** Creates the router and one namespace per pod name, pod k at 198.18.k.2. */
    static DemoNetwork create(List<String> podNames) throws IOException, InterruptedException {
        DemoNetwork n = new DemoNetwork();
        try {
            n.build(podNames);
            return n;
        } catch (IOException | InterruptedException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    private void build(List<String> podNames) throws IOException, InterruptedException {
        addNs(router);
        ip("-n", router, "link", "set", "lo", "up");
        // The router forwards between pods; net.* sysctls are per namespace, so this touches only its own.
        run(List.of("ip", "netns", "exec", router, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"));
        int k = 1;
        for (String name : podNames) {
            String ns = prefix + name;
            addNs(ns);
            String podIf = "eth0";
            String routerIf = "r" + k;
            ip("link", "add", "tmp" + k + "p", "netns", ns, "type", "veth", "peer", "name", routerIf, "netns", router);
            ip("-n", ns, "link", "set", "tmp" + k + "p", "name", podIf);
            String podIp = "198.18." + k + ".2";
            ip("-n", ns, "addr", "add", podIp + "/24", "dev", podIf);
            ip("-n", router, "addr", "add", "198.18." + k + ".1/24", "dev", routerIf);
            ip("-n", ns, "link", "set", "lo", "up");
            ip("-n", ns, "link", "set", podIf, "up");
            ip("-n", router, "link", "set", routerIf, "up");
            ip("-n", ns, "route", "add", "default", "via", "198.18." + k + ".1");
            pods.put(name, new Pod(name, ns, podIf, podIp));
            k++;
        }
    }

    private void addNs(String ns) throws IOException, InterruptedException {
        if (Files.exists(Path.of("/var/run/netns", ns))) {
            run(List.of("ip", "netns", "del", ns)); // a leftover of a killed earlier run
        }
        ip("netns", "add", ns);
        namespaces.add(ns);
    }

    Pod pod(String name) {
        return pods.get(name);
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("ip");
        cmd.addAll(List.of(args));
        run(cmd);
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
        }
    }

    @Override
    public synchronized void close() {
        for (String ns : namespaces.reversed()) {
            try {
                run(List.of("ip", "netns", "del", ns));
            } catch (IOException | InterruptedException e) {
                System.err.println("meshauth demo: could not delete network namespace " + ns + ": " + e.getMessage());
            }
        }
        namespaces.clear();
    }
}
