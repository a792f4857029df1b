package dev.meshauth.bpf.testing;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.MapSpec;
import dev.meshauth.bpf.map.MapType;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Decides once per JVM whether kernel tests can run: it creates (and closes) a tiny hash map. When
 * they cannot, the tests are skipped with the kernel's reason, or fail in CI.
 */
public final class KernelCondition implements ExecutionCondition {
    private static final String UNAVAILABLE = probe();

    /** True when kernel tests must run and fail rather than skip. */
    public static boolean required() {
        return "true".equalsIgnoreCase(System.getenv("CI"))
                || "true".equalsIgnoreCase(System.getenv("MESHAUTH_REQUIRE_KERNEL"));
    }

    private static String probe() {
        try (BpfMap m = BpfMap.create(MapSpec.of("meshauth_probe", MapType.HASH, 4, 4, 1, 0))) {
            return null;
        } catch (BpfException | RuntimeException e) {
            return e.getMessage();
        }
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (UNAVAILABLE == null) {
            return ConditionEvaluationResult.enabled("bpf(2) works in this process");
        }
        String reason = "kernel test cannot run here: " + UNAVAILABLE + " (run as root on Linux 6.6+)";
        if (required()) {
            throw new IllegalStateException(reason + "; CI=true (or MESHAUTH_REQUIRE_KERNEL=true) makes this a failure");
        }
        return ConditionEvaluationResult.disabled(reason);
    }
}
