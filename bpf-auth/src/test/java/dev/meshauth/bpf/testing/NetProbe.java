package dev.meshauth.bpf.testing;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * ICMP echo and raw IP protocol probes inside a test's namespace ({@code netprobe.py}, a test resource,
 * run with {@code ip netns exec}): Java has no raw sockets.
 */
public final class NetProbe {
    private NetProbe() {
    }

    private static Path script() {
        try {
            return Path.of(NetProbe.class.getResource("/netprobe.py").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> command(String netns, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", netns, "python3", script().toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** True if an echo from {@code netns} to {@code dst} was answered within a second. */
    public static boolean ping(String netns, String dst) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command(netns, "ping", dst)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("netprobe ping did not end");
        }
        if (p.exitValue() > 1) {
            throw new IOException("netprobe ping failed: " + out);
        }
        return p.exitValue() == 0;
    }

    /** True if a packet of IP protocol {@code proto} sent from {@code fromNs} reached {@code toAddr} in {@code toNs}. */
    public static boolean rawDelivered(String fromNs, String toNs, String toAddr, int proto)
            throws IOException, InterruptedException {
        Process recv = new ProcessBuilder(command(toNs, "raw-recv", toAddr, Integer.toString(proto), "1.0"))
                .redirectErrorStream(true).start();
        try {
            String ready = new String(recv.getInputStream().readNBytes(6), StandardCharsets.UTF_8);
            if (!ready.startsWith("ready")) {
                throw new IOException("netprobe raw-recv did not start: " + ready);
            }
            Process send = new ProcessBuilder(command(fromNs, "raw-send", toAddr, Integer.toString(proto)))
                    .redirectErrorStream(true).start();
            if (!send.waitFor(10, TimeUnit.SECONDS) || send.exitValue() != 0) {
                throw new IOException("netprobe raw-send failed: "
                        + new String(send.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            if (!recv.waitFor(10, TimeUnit.SECONDS)) {
                throw new IOException("netprobe raw-recv did not end");
            }
            return recv.exitValue() == 0;
        } finally {
            recv.destroyForcibly();
        }
    }
}
