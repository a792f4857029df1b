package dev.meshauth.agent.demo;

/**
 * How {@code meshauth demo} runs.
 *
 * @param interactive pause between steps (on a terminal)
 * @param reactive    authenticate only on the first dropped packet, as Cilium does, to show that drop
 * @param keep        leave everything running at the end for exploration
 * @param simulation  {@code --datapath memory}: no namespaces, no eBPF, verdicts from the agents' policy and auth
 *                    state instead of packets; clearly labelled as a simulation
 * @param realSpire   {@code --spire real}: the real spire-server and one spire-agent per node, built from SPIRE's
 *                    Go module if not cached, instead of the embedded dev server
 */
public record DemoOptions(boolean interactive, boolean reactive, boolean keep, boolean simulation, boolean realSpire) {
    /** With the embedded dev server. */
    public DemoOptions(boolean interactive, boolean reactive, boolean keep, boolean simulation) {
        this(interactive, reactive, keep, simulation, false);
    }

    /** Checks the combination. */
    public DemoOptions {
        if (reactive && simulation) {
            throw new IllegalArgumentException("--reactive shows a dropped packet: it needs the kernel datapath, not"
                    + " --datapath memory");
        }
    }
}
