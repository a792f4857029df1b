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
}
