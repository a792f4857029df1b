package dev.meshauth.bpf.datapath;

import java.util.List;

/**
 * Datapath options for bpf-auth's own tests. The lookup order is the policy engine's to define (the
 * agent passes it); these tests state the order they expect the program to follow, most specific first,
 * and the agent's kernel property test ties the engine's order to the program.
 */
final class TestOptions {
    static final List<LookupStep> MOST_SPECIFIC_FIRST = List.of(
            new LookupStep(false, false, false), new LookupStep(false, true, false), new LookupStep(false, true, true),
            new LookupStep(true, false, false), new LookupStep(true, true, false), new LookupStep(true, true, true));
    static final DatapathOptions DEFAULTS = DatapathOptions.defaults(MOST_SPECIFIC_FIRST);

    private TestOptions() {
    }
}
