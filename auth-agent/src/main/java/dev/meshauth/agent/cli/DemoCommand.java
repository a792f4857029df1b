package dev.meshauth.agent.cli;

import dev.meshauth.agent.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code meshauth demo}: Cilium's Star Wars mutual-authentication guide, for real, on this machine. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run Cilium's Star Wars mutual-authentication demo on this machine: embedded SPIRE, two nodes,"
                + " three pods (network namespaces), the eBPF datapath. Needs root.")
public final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--reactive", description = "Not built yet: show the first-packet drop Cilium would have.")
    boolean reactive;

    @Option(names = "--keep", description = "Not built yet: leave the setup running for exploration.")
    boolean keep;

    @Option(names = "--datapath", defaultValue = "standalone",
            description = "standalone (the eBPF datapath, needs root); memory (a simulation: not built yet).")
    String datapath;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (reactive || keep || !datapath.equals("standalone")) {
            err.println("meshauth demo: --reactive, --keep and --datapath memory are not built yet; run `./meshauth demo`"
                    + " without them.");
            err.flush();
            return ExitCodes.NOT_BUILT;
        }
        if (!"root".equals(System.getProperty("user.name")) && !isRoot()) {
            err.println("meshauth demo needs root: it creates network namespaces and loads eBPF programs (CAP_BPF,"
                    + " CAP_NET_ADMIN, CAP_SYS_ADMIN). Run it as root. A simulation without the kernel"
                    + " (--datapath memory) is not built yet.");
            err.flush();
            return ExitCodes.FAILURE;
        }
        Demo demo = new Demo(out, Demo.onTerminal());
        Thread hook = new Thread(demo::close, "meshauth-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            demo.run();
            return ExitCodes.OK;
        } catch (Demo.StepFailed e) {
            err.println("meshauth demo: " + e.getMessage());
            return ExitCodes.FAILURE;
        } catch (Exception e) {
            err.println("meshauth demo: " + e);
            return ExitCodes.FAILURE;
        } finally {
            demo.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs close, which is idempotent
            }
            err.flush();
        }
    }

    private static boolean isRoot() {
        try {
            return (Integer) java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid") == 0;
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
