package dev.meshauth.agent.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code meshauth demo}: the end-to-end walk-through. Not built yet: says what it will do. */
@Command(name = "demo", description = "Run the Star Wars mutual-authentication demo on this machine (not built yet).")
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getErr();
        out.println("""
                meshauth demo is not built yet in this version.

                When it is, it will, on this machine and with no cluster:
                  1. start an embedded SPIRE-compatible server that issues SPIFFE identities;
                  2. create two nodes and three pods (deathstar, tiefighter, xwing) as network namespaces;
                  3. run one meshauth agent per node with the standalone eBPF datapath;
                  4. apply a CiliumNetworkPolicy with authentication.mode: required;
                  5. show xwing dropped by policy, tiefighter landing after mutual TLS between the agents,
                     the auth map, the auth events, and what SVID revocation does.

                What works today: the kernel auth map (meshauth bpf auth list|flush).""");
        out.flush();
        return ExitCodes.NOT_BUILT;
    }
}
