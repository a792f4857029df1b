package dev.meshauth.policy.model;

import java.util.List;

/**
 * IP protocols a rule can name. In {@code toPorts}, ANY with a port stands for TCP, UDP and SCTP (as in
 * Cilium); a rule with no {@code toPorts} and no {@code icmps} admits every protocol. ICMP and ICMPv6 come
 * from {@code icmps} rules, their "port" being the ICMP type.
 */
public enum Protocol {
    TCP(6), UDP(17), SCTP(132), ICMP(1), ICMPV6(58), ANY(0);

    /** What ANY with a port expands to. */
    public static final List<Protocol> ANY_WITH_PORTS = List.of(TCP, UDP, SCTP);

    private final int number;

    Protocol(int number) {
        this.number = number;
    }

    /** IP protocol number (0 for ANY). */
    public int number() {
        return number;
    }

    /** True for the protocols whose packets carry ports (TCP, UDP, SCTP). */
    public boolean hasPorts() {
        return this == TCP || this == UDP || this == SCTP;
    }

    /** "TCP", "UDP", "SCTP", "ICMP", "ICMPv6" or "ANY" for an IP protocol number (0 is ANY); "proto N" for any other. */
    public static String name(int number) {
        for (Protocol p : values()) {
            if (p.number == number) {
                return p == ICMPV6 ? "ICMPv6" : p.name();
            }
        }
        return "proto " + number;
    }
}
