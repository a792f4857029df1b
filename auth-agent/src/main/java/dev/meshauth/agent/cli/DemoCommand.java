package dev.meshauth.agent.cli;

import dev.meshauth.agent.demo.Demo;
import dev.meshauth.agent.demo.DemoOptions;
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

    @Option(names = "--reactive",
            description = "Authenticate only on the first dropped packet, as Cilium does, to show that drop (kernel only).")
    boolean reactive;

    @Option(names = "--keep", description = "Leave everything running at the end, print commands to try; Ctrl-C removes it.")
    boolean keep;

    @Option(names = "--datapath", defaultValue = "standalone",
            description = "standalone: meshauth's eBPF datapath in network namespaces (root); memory: a clearly labelled"
                    + " simulation without the kernel (verdicts from the agents, no packets). Default: ${DEFAULT-VALUE}.")
    String datapath;

    @Option(names = "--spire", defaultValue = "dev", paramLabel = "dev|real",
            description = "dev: the embedded SPIRE-compatible server; real: the real spire-server and one spire-agent per"
                    + " node, built from SPIRE's Go module (interop/spire/build.sh) the first time. Default: ${DEFAULT-VALUE}.")
    String spire;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean simulation = switch (datapath) {
            case "standalone" -> false;
            case "memory" -> true;
            default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--datapath must be standalone or memory, got '" + datapath + "'");
        };
        boolean realSpire = switch (spire) {
            case "dev" -> false;
            case "real" -> true;
            default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--spire must be dev or real, got '" + spire + "'");
        };
        DemoOptions options;
        try {
            options = new DemoOptions(Demo.onTerminal(), reactive, keep, simulation, realSpire);
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (!simulation) {
            String missing = !isRoot() ? "root" : bpfUnavailable();
            if (missing != null) {
                err.println("meshauth demo needs " + missing + ": it creates network namespaces and loads eBPF programs"
                        + " (CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN). Run it as root on Linux 6.6 or later, or run"
                        + " `./meshauth demo --datapath memory` for a clearly labelled simulation without the kernel.");
                err.flush();
                return ExitCodes.FAILURE;
            }
        }
        Demo demo = new Demo(out, options, Main::runInto);
        Thread hook = new Thread(demo::close, "meshauth-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean keepRunning = false;
        try {
            demo.run();
            keepRunning = keep;
            return ExitCodes.OK;
        } catch (Demo.StepFailed | dev.meshauth.spire.local.LocalSpireException e) {
            err.println("meshauth demo: " + e.getMessage());
            return ExitCodes.FAILURE;
        } catch (Exception e) {
            err.println("meshauth demo: " + e);
            return ExitCodes.FAILURE;
        } finally {
            err.flush();
            if (keepRunning) {
                Thread.currentThread().join(); // until Ctrl-C: the shutdown hook removes everything
            }
            demo.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs close, which is idempotent
            }
        }
    }

    /** Null if a BPF map can be created here, else what is missing. */
    private static String bpfUnavailable() {
        try (var m = dev.meshauth.bpf.map.BpfMap.create(dev.meshauth.bpf.map.MapSpec.of("ma_probe",
                dev.meshauth.bpf.map.MapType.HASH, 4, 4, 1, 0))) {
            return null;
        } catch (dev.meshauth.bpf.BpfException | RuntimeException e) {
            return "BPF (creating a map failed: " + e.getMessage() + ")";
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
