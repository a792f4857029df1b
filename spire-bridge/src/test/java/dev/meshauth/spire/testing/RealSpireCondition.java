package dev.meshauth.spire.testing;

import dev.meshauth.spire.local.LocalSpireException;
import dev.meshauth.spire.local.SpireBinaries;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;

/**
 * Finds the real SPIRE binaries once per JVM: {@code $MESHAUTH_SPIRE_BIN}, the repository's build cache,
 * or a build with {@code interop/spire/build.sh} when Go is there (minutes, once). When none works, the
 * tests are skipped with the reason, or fail in CI.
 */
public final class RealSpireCondition implements ExecutionCondition {
    private static SpireBinaries binaries;
    private static String unavailable;

    /** True when real-SPIRE tests must run and fail rather than skip. */
    public static boolean required() {
        return "true".equalsIgnoreCase(System.getenv("CI")) || "true".equalsIgnoreCase(System.getenv("MESHAUTH_REQUIRE_SPIRE"));
    }

    /**
     * The binaries.
     *
     * @throws IllegalStateException if there are none (the reason says what to do)
     */
    public static synchronized SpireBinaries binaries() {
        if (binaries == null && unavailable == null) {
            try {
                Path home = SpireBinaries.repository(Path.of("")).orElseThrow(() -> new LocalSpireException(
                        "no meshauth checkout (interop/spire/VERSION) above " + Path.of("").toAbsolutePath()));
                binaries = SpireBinaries.find(home, SpireBinaries.goAvailable(), line -> System.err.println(line));
            } catch (LocalSpireException e) {
                unavailable = e.getMessage();
            }
        }
        if (binaries == null) {
            throw new IllegalStateException("real SPIRE unavailable: " + unavailable);
        }
        return binaries;
    }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        try {
            SpireBinaries b = binaries();
            return ConditionEvaluationResult.enabled("real SPIRE " + b.version() + " from " + b.directory());
        } catch (IllegalStateException e) {
            if (required()) {
                throw new IllegalStateException(e.getMessage()
                        + "; CI=true (or MESHAUTH_REQUIRE_SPIRE=true) makes this a failure");
            }
            return ConditionEvaluationResult.disabled(e.getMessage());
        }
    }
}
