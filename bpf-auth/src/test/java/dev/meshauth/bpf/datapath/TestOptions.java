package dev.meshauth.bpf.datapath;

import java.util.List;

/**
 * Datapath options for bpf-auth's own tests. The lookup order is the policy engine's to define (the
 * agent passes it); these tests state the order they expect the program to follow, the packet's remote
 * first, and the agent's kernel property test ties the engine's order to the program.
 */
final class TestOptions {
    static final List<LookupStep> REMOTE_FIRST = List.of(new LookupStep(false), new LookupStep(true));
    static final DatapathOptions DEFAULTS = DatapathOptions.defaults(REMOTE_FIRST);

    private TestOptions() {
    }
}
