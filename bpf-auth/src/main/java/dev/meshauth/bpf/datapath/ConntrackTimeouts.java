package dev.meshauth.bpf.datapath;

import java.time.Duration;

/**
 * How long a connection tracking entry lives after its last packet, per protocol and TCP state; the
 * defaults and names are Cilium's ({@code --bpf-ct-timeout-regular-*}).
 *
 * @param tcpEstablished a TCP connection past its handshake (6h0m0s)
 * @param tcpSyn         a TCP connection seen only as SYN (1m0s)
 * @param tcpFin         a TCP connection after FIN or RST (10s)
 * @param any            every other protocol (1m0s)
 */
public record ConntrackTimeouts(Duration tcpEstablished, Duration tcpSyn, Duration tcpFin, Duration any) {
    /** Cilium's defaults. */
    public static final ConntrackTimeouts DEFAULTS = new ConntrackTimeouts(Duration.ofHours(6), Duration.ofMinutes(1),
            Duration.ofSeconds(10), Duration.ofMinutes(1));

    /** Checks each is positive. */
    public ConntrackTimeouts {
        for (Duration d : new Duration[] {tcpEstablished, tcpSyn, tcpFin, any}) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("conntrack timeouts must be positive, got " + d);
            }
        }
    }
}
