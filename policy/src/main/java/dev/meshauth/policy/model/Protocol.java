package dev.meshauth.policy.model;

/** L4 protocols a port rule can name. ANY expands to TCP and UDP. */
public enum Protocol {
    TCP(6), UDP(17), ANY(0);

    private final int number;

    Protocol(int number) {
        this.number = number;
    }

    /** IP protocol number (0 for ANY). */
    public int number() {
        return number;
    }

    /** "TCP", "UDP" or "ANY" for an IP protocol number (0 is ANY); "proto N" for any other. */
    public static String name(int number) {
        for (Protocol p : values()) {
            if (p.number == number) {
                return p.name();
            }
        }
        return "proto " + number;
    }
}
