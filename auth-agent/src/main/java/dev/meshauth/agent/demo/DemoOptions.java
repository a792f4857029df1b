package dev.meshauth.agent.demo;

/**
 * How {@code meshauth demo} runs.
 *
 * @param interactive pause between steps (on a terminal)
 * @param reactive    authenticate only on the first dropped packet, as Cilium does, to show that drop
 * @param keep        leave everything running at the end for exploration
 * @param simulation  {@code --datapath memory}: no namespaces, no eBPF, verdicts from the agents' policy and auth
 *                    state instead of packets; clearly labelled as a simulation
 */
public record DemoOptions(boolean interactive, boolean reactive, boolean keep, boolean simulation) {
    /** Checks the combination. */
    public DemoOptions {
        if (reactive && simulation) {
            throw new IllegalArgumentException("--reactive shows a dropped packet: it needs the kernel datapath, not"
                    + " --datapath memory");
        }
    }
}
